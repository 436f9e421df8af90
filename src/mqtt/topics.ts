/**
 * The topic tree under one node's prefix (default `twinvip/<node>/`), Zigbee2MQTT style:
 * retained `status` and `state`, plain `event` and `telemetry`, and `request/<command>` answered
 * on `response/<command>`.
 */
export interface Topics {
  readonly prefix: string;
  /** Retained "online" / "offline"; "offline" is also the last will. */
  readonly status: string;
  /** Retained full state of the node. */
  readonly state: string;
  /** Transitions and alarms, QoS 1, never retained. */
  readonly event: string;
  readonly telemetry: string;
  /** Retained small state of one instance (dashboards need not parse the whole state). */
  instanceState(name: string): string;
  /** Subscription filter for every command. */
  readonly requestFilter: string;
  request(command: string): string;
  response(command: string): string;
}

export function topicsFor(prefix: string): Topics {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    prefix: p,
    status: `${p}status`,
    state: `${p}state`,
    event: `${p}event`,
    telemetry: `${p}telemetry`,
    instanceState: (name) => `${p}instance/${name}/state`,
    requestFilter: `${p}request/+`,
    request: (command) => `${p}request/${command}`,
    response: (command) => `${p}response/${command}`,
  };
}

/** The command named by a request topic, or undefined when the topic is not a request of ours. */
export function commandOfTopic(topics: Topics, topic: string): string | undefined {
  const head = `${topics.prefix}request/`;
  if (!topic.startsWith(head)) return undefined;
  const command = topic.slice(head.length);
  return command.length > 0 && !command.includes('/') ? command : undefined;
}
