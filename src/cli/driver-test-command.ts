/**
 * `chatstorm driver-test <driver> [--target URL]`: the driver contract test kit on the command
 * line (src/drivers/contract-test.ts). Prints one checklist line per contract item and where the
 * run's report is.
 *
 * Exit codes: 0 every applicable item passed, 1 one failed, 2 bad usage or a driver that does not
 * load, 3 infrastructure (target unreachable, the run itself failed).
 */
import { UsageError } from '../errors.ts';
import { describeContractResult, testDriverContract, type ContractTestOptions } from '../drivers/contract-test.ts';

/** Argv of `driver-test`, as yargs hands them over. */
export interface DriverTestArgs {
  driver: string;
  target?: string;
  httpTarget?: string;
  ca?: string;
  insecure?: boolean;
  toxiproxy?: string;
  out?: string;
  seed?: number;
  defect?: string[];
  defectRate?: number;
}

/** Run the kit from CLI arguments; resolves with the exit code and the text to print. */
export async function driverTestCli(a: DriverTestArgs, signal?: AbortSignal): Promise<{ exitCode: number; text: string }> {
  if (a.target !== undefined && a.defect?.length) throw new UsageError('--defect applies to the built-in server only; drop --target or start `chatstorm serve --defect ...` yourself');
  if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0)) throw new UsageError(`--seed must be a non-negative integer, got ${a.seed}`);
  if (a.defectRate !== undefined && !(a.defectRate > 0 && a.defectRate <= 1)) throw new UsageError(`--defect-rate must be in (0, 1], got ${a.defectRate}`);
  const o: ContractTestOptions = {
    driver: a.driver,
    target: a.target,
    httpTarget: a.httpTarget,
    ca: a.ca,
    insecure: a.insecure,
    toxiproxy: a.toxiproxy,
    out: a.out,
    seed: a.seed,
    defects: a.defect,
    defectRate: a.defectRate,
    signal,
  };
  const r = await testDriverContract(o);
  return { exitCode: r.exitCode, text: describeContractResult(r) };
}
