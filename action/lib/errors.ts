/** An error's message for a log line or a step message: thrown values need not be Errors. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
