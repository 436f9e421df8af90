// Everything twinvip executes for the operator (notify scripts, script checks, the fence
// command) goes through one policy and one way of running a program.
export { ScriptPolicy, scriptPolicyFromConfig, currentPolicy, resolveCommand, type PolicySource, type ScriptPolicyOptions, type PreparedProgram, type Preparation, type Resolved } from './script-policy';
export { runProgram, lastLine, type RunOptions, type RunResult, type RunningProgram } from './run-program';
export { walkPath, elementInsecurity, type PathElement, type PathWalk } from './path-walk';
export { lookupUser, userFromPasswd, type UserIds } from './users';
