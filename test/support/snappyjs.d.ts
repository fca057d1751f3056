// snappyjs ships no types: the one function the tests use.
declare module 'snappyjs' {
  const SnappyJS: { uncompress(input: Uint8Array): Uint8Array };
  export default SnappyJS;
}
