/** Correlation a requester chose, echoed in the response (3.1.1 has no correlation data). */
export type Transaction = string | number;

/** The one response envelope every command answers with (Zigbee2MQTT's convention). */
export interface ResponseEnvelope {
  status: 'ok' | 'error';
  data?: unknown;
  error?: string;
  transaction?: Transaction;
  /** The nonce of the signed request answered: the requester's correlation on MQTT 3.1.1. */
  nonce?: string;
}

export function okResponse(data?: unknown, transaction?: Transaction): ResponseEnvelope {
  const r: ResponseEnvelope = { status: 'ok' };
  if (data !== undefined) r.data = data;
  if (transaction !== undefined) r.transaction = transaction;
  return r;
}

/** An error answer; `data` carries details such as the list of config errors. */
export function errorResponse(error: string, transaction?: Transaction, data?: unknown): ResponseEnvelope {
  const r: ResponseEnvelope = { status: 'error', error };
  if (data !== undefined) r.data = data;
  if (transaction !== undefined) r.transaction = transaction;
  return r;
}
