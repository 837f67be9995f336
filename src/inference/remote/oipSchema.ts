import { z } from 'zod';

/**
 * The JSON bodies of the Open Inference Protocol (KServe v2) REST API that we send and accept, as
 * written in kserve/open-inference-protocol specification/protocol/inference_rest.md ("Inference
 * Request JSON Object", "Inference Response JSON Object", "Model Metadata Response JSON Object").
 * Unknown fields are allowed: servers add their own (Triton: `model_version`, `parameters`).
 */

/** Tensor data: row-major, flat or nested arrays (the spec allows both). */
export type TensorData = (number | boolean | string | TensorData)[];
const tensorData: z.ZodType<TensorData> = z.lazy(() => z.array(z.union([z.number(), z.boolean(), z.string(), tensorData])));

const parameters = z.record(z.string(), z.unknown());
const shape = z.array(z.number().int().min(0));

export const requestInputSchema = z.looseObject({
  name: z.string().min(1),
  shape,
  datatype: z.string().min(1),
  parameters: parameters.optional(),
  data: tensorData,
});

export const inferenceRequestSchema = z.looseObject({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z.array(requestInputSchema).min(1),
  outputs: z.array(z.looseObject({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});

export const responseOutputSchema = z.looseObject({
  name: z.string().min(1),
  shape,
  datatype: z.string().min(1),
  parameters: parameters.optional(),
  data: tensorData,
});

export const inferenceResponseSchema = z.looseObject({
  // Required by the schema in the spec, but its own response example leaves it out: accepted without.
  model_name: z.string().min(1).optional(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: parameters.optional(),
  outputs: z.array(responseOutputSchema),
});

const metadataTensor = z.looseObject({ name: z.string().min(1), datatype: z.string().min(1), shape: z.array(z.number().int()) });

export const modelMetadataSchema = z.looseObject({
  name: z.string().min(1),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(metadataTensor),
  outputs: z.array(metadataTensor),
});

export const errorResponseSchema = z.looseObject({ error: z.string() });

export type InferenceRequest = z.infer<typeof inferenceRequestSchema>;
export type InferenceResponse = z.infer<typeof inferenceResponseSchema>;
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
export type RequestInput = z.infer<typeof requestInputSchema>;
export type ResponseOutput = z.infer<typeof responseOutputSchema>;

/** Flattens nested tensor data (row-major) and checks it holds exactly `prod(shape)` numbers. */
export function flatNumbers(data: TensorData, tensorShape: readonly number[], what: string): number[] {
  const flat = (data as unknown[]).flat(Infinity);
  const expected = tensorShape.reduce((a, b) => a * b, 1);
  if (flat.length !== expected) throw new Error(`${what}: shape [${tensorShape.join(', ')}] needs ${expected} values, got ${flat.length}`);
  for (const v of flat) if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: every value must be a finite number`);
  return flat as number[];
}

/** A zod issue list as one line. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}
