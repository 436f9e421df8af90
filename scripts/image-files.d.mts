// Types of scripts/image-files.mjs for the TypeScript tests that import it.
export interface BundleMeta {
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
}
export const LEFT_OUT: Record<string, string>;
export const NEVER_SHIPPED_SOURCES: string[];
export function applianceOutputs(meta: BundleMeta): { ship: string[]; leftOut: string[] };
