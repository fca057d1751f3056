// What an option is, and the error a bad one raises: shared by config.ts, which
// gathers every option, and the modules that declare their own (outlets). The
// errors themselves are in model/errors.ts, with every other code.

import { ConfigError, PortBusyError } from './model/errors.js';

export { ConfigError, PortBusyError };

/** The error a failed listen(port) raises: PortBusyError for a port in use or not allowed, else itself. */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number, option: string): Error {
  if (err.code === 'EADDRINUSE') return new PortBusyError(`port ${port} on ${host} is in use by another process (${option}): stop it or choose another port`);
  if (err.code === 'EACCES') return new PortBusyError(`port ${port} on ${host} needs privileges this process lacks (${option}): choose a port above 1023`);
  if (err.code === 'EADDRNOTAVAIL') return new PortBusyError(`${host} is not an address of this machine (DRAINMETER_HOST / --host)`);
  return err;
}

/** One option: a flag and an environment variable (`--max-series` ⇔ DRAINMETER_MAX_SERIES). */
export interface Option {
  flag: string;
  env: string;
  describe: string;
  default: string;
}
