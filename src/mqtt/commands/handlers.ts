import type { DaemonContext } from '../../daemon';
import { errorResponse, okResponse, type ResponseEnvelope, type Transaction } from '../envelope';
import type { HaActions } from '../ha-actions';
import { pushConfig } from './config-push';
import type { CommandOutcome } from './intake';
import type { ParsedRequest } from './request';

export interface CommandDeps {
  ctx: DaemonContext;
  ha: HaActions | undefined;
  /** The extension's own counters and link state, for `diagnostics`. */
  mqttDiagnostics: () => Record<string, unknown>;
}

/** Runs one authorised request. Never throws: a failure is an error response. */
export async function runCommand(req: ParsedRequest, deps: CommandDeps): Promise<CommandOutcome> {
  const t = req.transaction;
  try {
    if (req.command === 'config') return await pushCommand(req, deps, t);
    return { response: await dispatch(req, deps, t) };
  } catch (err) {
    return { response: errorResponse(`'${req.command}' failed: ${err instanceof Error ? err.message : String(err)}`, t) };
  }
}

/** `act` as one operator action: refused while another (console or MQTT) is in progress. */
async function oneAtATime<T>(ha: HaActions | undefined, name: string, act: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  if (!ha) return { ok: true, value: await act() };
  return ha.exclusive(name, async () => ({ ok: true as const, value: await act() }));
}

async function pushCommand(req: ParsedRequest, deps: CommandDeps, t: Transaction | undefined): Promise<CommandOutcome> {
  const run = await oneAtATime(deps.ha, 'config push', () => pushConfig(deps.ctx, req.args.config));
  if (!run.ok) return { response: errorResponse(run.error, t) };
  const r = run.value;
  if (r.ok) return { response: okResponse({ changed: r.changed, old_hash: r.oldHash, new_hash: r.newHash }, t) };
  if (!r.localOnly) return { response: errorResponse(r.error, t, { errors: r.errors }) };
  // Answered like every other refusal: "refused (<reason>): ...", with the paths.
  const message = `changes local-only fields, which only the box's own configuration may set: ${r.localOnly.join(', ')}`;
  return { response: errorResponse(`refused (local-only): ${message}`, t, { errors: r.errors, local_only: r.localOnly }), refusal: { reason: 'local-only', message } };
}

async function dispatch(req: ParsedRequest, deps: CommandDeps, t: Transaction | undefined): Promise<ResponseEnvelope> {
  const { ctx, ha } = deps;
  switch (req.command) {
    case 'status':
      return okResponse(ctx.status(), t);
    case 'maintenance': {
      if (!ha) return errorResponse('maintenance not available: the VRRP part is not running', t);
      const r = await ha.maintenance(req.args.on === true);
      return r.ok ? okResponse(r.data ?? { maintenance: req.args.on === true }, t) : errorResponse(r.error, t);
    }
    case 'failover': {
      if (!ha) return errorResponse('failover not available: the VRRP part is not running', t);
      const r = await ha.failover(typeof req.args.instance === 'string' ? req.args.instance : undefined);
      return r.ok ? okResponse(r.data ?? { failover: 'requested' }, t) : errorResponse(r.error, t);
    }
    case 'reload': {
      const run = await oneAtATime(ha, 'reload', () => ctx.reload('mqtt request'));
      if (!run.ok) return errorResponse(run.error, t);
      const r = run.value;
      return r.ok
        ? okResponse({ changed: r.changed, old_hash: r.oldHash, new_hash: r.newHash }, t)
        : errorResponse(`config refused; running config ${r.keptHash} kept`, t, { errors: r.errors });
    }
    case 'config':
      throw new Error('config push is handled by pushCommand');
    case 'diagnostics': {
      const lines = typeof req.args.log_lines === 'number' ? req.args.log_lines : 100;
      return okResponse({ counters: ctx.counters.snapshot(), mqtt: deps.mqttDiagnostics(), log: ctx.logger.recent(lines) }, t);
    }
  }
}
