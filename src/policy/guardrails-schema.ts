import * as z from 'zod'

// The policy's `guardrails:` block: treatment (users inside the phase's user_percentage) against
// control (the rest), one entry per metric, judged by the always-valid interval of the relative
// difference (src/engine/guardrails.ts). Which way is worse and what kind of number the metric is
// come from metrics.definitions (or the metric's known name), never from here.

/** What a fired guardrail does, as on a trigger: roll back (default), pause the rollout, or only report. */
export const GUARDRAIL_ON_FIRE = ['rollback', 'pause', 'observe'] as const

export const guardrailSchema = z.strictObject({
  margin: z.number().min(0).max(10).meta({
    description:
      'The largest tolerated relative harm, treatment vs control: 0.05 lets the treatment be up to 5% worse'
  }),
  alpha: z.number().gt(0).lt(1).optional().meta({
    description: 'Error rate of the always-valid interval (default 0.05)'
  }),
  minimum_sample_size: z.number().int().positive().optional().meta({
    description:
      'Observations per group where the interval is tightest (tuning; default 10000): about the count you expect by the time you want an answer'
  }),
  on_fire: z.enum(GUARDRAIL_ON_FIRE).optional().meta({
    description:
      'When the treatment is worse beyond the margin: rollback (default), pause (pause the rollout, as a trigger with on_fire: pause) or observe (report only)'
  })
})

export const guardrailsSchema = z.record(z.string().min(1), guardrailSchema).meta({
  description:
    'Guardrails: treatment (inside user_percentage) vs control (the rest), per metric, accumulated since the phase was entered'
})
