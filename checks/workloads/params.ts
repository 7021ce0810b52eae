// Param schemas the scenarios share: an image and a set of step timeouts.

export const imageParam = (description: string) => ({ type: 'string', minLength: 1, description });

/** `timeouts: {NAME: seconds, …}`, each a whole number of seconds ≥ 1. */
export function timeoutsParam(described: Record<string, string>) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(described).map(([name, description]) => [name, { type: 'integer', minimum: 1, description }])),
    description: 'step timeouts in seconds',
  };
}
