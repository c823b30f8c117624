// Size limits shared by every way dmalint reads source: `dmalint check` on files and the
// language server on the documents an editor sends.

/** Files and documents larger than this are not linted (generated tables, not driver code). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** "file is 50.0 MiB, over the 32 MiB limit; not checked". */
export function tooLargeMessage(bytes: number): string {
  return `file is ${(bytes / 1048576).toFixed(1)} MiB, over the ${MAX_FILE_BYTES / 1048576} MiB limit; not checked`;
}
