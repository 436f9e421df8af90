// Which pair a box belongs to, as both twins state it in their MQTT state, so a fleet tool can
// group boxes into pairs without a side table: node.pair when set (the same on both twins), else
// the two node names sorted and joined by "~" when node.twin names the twin (each twin naming the
// other gives the same id), else the box's own name alone (source "self": the tool shows the box
// as unpaired and says which setting is missing).

export interface PairIdentity {
  id: string;
  /** The twin's node name, when configured. */
  twin: string | null;
  source: 'config' | 'names' | 'self';
}

export function pairIdentity(node: { name: string; pair?: string | undefined; twin?: string | undefined }): PairIdentity {
  const twin = node.twin ?? null;
  if (node.pair !== undefined) return { id: node.pair, twin, source: 'config' };
  if (twin !== null && twin !== node.name) return { id: [node.name, twin].sort().join('~'), twin, source: 'names' };
  return { id: node.name, twin, source: 'self' };
}
