/**
 * The public surface of chatstorm: `import { ... } from 'chatstorm'`. Everything a scenario
 * author, a driver author or a script that runs chatstorm as a library needs is exported here by
 * name; nothing public is reached through `src/` paths (those may move between versions).
 *
 *   scenario file  -> defineScenario, loadScenario, validateScenario, duration and size helpers
 *   driver module  -> defineDriver, the driver interface, encodeMarker / decodeMarker, messageBody,
 *                     the reference driver (to wrap), target helpers (clientOptions for Host and
 *                     TLS, requestEndpoint for REST calls)
 *   a script / CI  -> runScenario, checkRun, the errors and exit codes
 */
export * from './scenario/index.ts';
// Everything the drivers folder lists (the interface, marker, body and attachment helpers): a
// re-export of the whole list, so a new driver export is public without a second edit here.
export * from './drivers/index.ts';
export { runScenario, describeResult, type RunScenarioOptions, type RunScenarioResult } from './cli/run-command.ts';
export { checkRun } from './cli/check-command.ts';
export {
  checkTarget,
  checkHttpTarget,
  clientOptions,
  certificateHint,
  type Target,
  type Endpoint,
  type TargetTls,
  type TlsSettings,
  type TlsTrust,
} from './net/target.ts';
export { requestEndpoint, type HttpResponse } from './net/http-request.ts';
export { parseSla, type Sla, type Verdict, type CheckName, type CheckResult, type CheckStatus } from './check/index.ts';
export type { Summary, RunVerdict } from './report/index.ts';
export type { Progress } from './run/runner.ts';
export type { PlannedAccount, PlannedConversation, Plan } from './plan/plan.ts';
export {
  ChatstormError,
  UsageError,
  InvalidScenarioError,
  InvalidSlaError,
  UnreachableError,
  HarnessError,
  ResourceLimitError,
  InvalidDriverError,
  ExitCode,
  exitCodeFor,
} from './errors.ts';
