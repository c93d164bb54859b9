import type { Driver } from './driver.ts';

/**
 * Declare a driver in a driver module (`export default defineDriver({...})`). It only gives
 * types (the object comes back unchanged); `chatstorm run --driver ./my-driver.ts` checks the
 * shape when it loads the module, so a missing method is reported with the file's name.
 */
export function defineDriver<D extends Driver>(driver: D): D {
  return driver;
}
