export declare const SUBSET_ID: string

/** method and OpenAPI path of every operation the emulator serves */
export declare const OPERATIONS: Array<[string, string]>

export interface ExtractedOperation {
  operationId: string
  method: string
  path: string
  parameters: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: unknown }>
  requestBody: { required: boolean; schema: unknown } | null
  responses: Record<string, unknown>
}

export declare function extractSubset(document: unknown): {
  $id: string
  $defs: Record<string, unknown>
  operations: ExtractedOperation[]
}
