import {z} from 'zod'

/** Playbook YAML as specified in DESIGN.md; strict: an unknown key is an error, never ignored. */

export const AskSchema = z
  .object({
    /** Run variable the answer sets (e.g. dmPolicy). */
    var: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
    message: z.string().min(1),
    choices: z.array(z.string()).min(2).optional(),
    default: z.union([z.string(), z.boolean()]),
  })
  .strict()

export const StepSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'step ids are kebab-case'),
    title: z.string().min(1),
    action: z.string().min(1),
    with: z.record(z.string(), z.unknown()).optional(),
    /** A run variable, or "!variable": the step runs only when it is truthy (falsy). */
    when: z
      .string()
      .regex(/^!?[A-Za-z][A-Za-z0-9]*$/)
      .optional(),
    confirm: z.string().optional(),
    ask: AskSchema.optional(),
    onError: z.enum(['stop', 'continue']).default('stop'),
  })
  .strict()

export const PlaybookSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    title: z.string().min(1),
    description: z.string().default(''),
    steps: z.array(StepSchema).min(1),
  })
  .strict()

export type PlaybookStep = z.infer<typeof StepSchema>
export type Playbook = z.infer<typeof PlaybookSchema>
