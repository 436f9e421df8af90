// Which pair a box belongs to, as both twins state it in their MQTT state, so a fleet tool can
// group boxes into pairs without a side table: node.pair when set (the same on both twins), else
// the two node names sorted and joined by "~" when node.twin names the twin (each twin naming the
// other gives the same id), else the same from the twin's node name as the twin told it over the
// serial link (the split-brain diagnosis's `diagnose` request, source "serial": both twins learn
// each other's name, so both derive the same id with nothing configured), else the box's own name alone (source "self": the tool shows the box
// as unpaired and says which setting is missing).

export interface PairIdentity {
  id: string;
  /** The twin's node name, when configured. */
  twin: string | null;
  source: 'config' | 'names' | 'serial' | 'self';
}

/** `learnedTwin`: the twin's node name as the twin told it over serial (used when node.twin is unset). */
export function pairIdentity(node: { name: string; pair?: string | undefined; twin?: string | undefined }, learnedTwin?: string): PairIdentity {
  const configured = node.twin ?? null;
  const twin = configured ?? learnedTwin ?? null;
  if (node.pair !== undefined) return { id: node.pair, twin, source: 'config' };
  if (twin !== null && twin !== node.name) return { id: [node.name, twin].sort().join('~'), twin, source: configured !== null ? 'names' : 'serial' };
  return { id: node.name, twin, source: 'self' };
}
