// Size limits shared by every way dmalint reads source: `dmalint check` on files and the
// language server on the documents an editor sends.

/**
 * The largest file that is analyzed. Facts take about 30 times the source's size, in memory and
 * as the JSON that goes to the cache and between threads, and no JavaScript string holds more
 * than 512 MiB: a 17 MiB file could not be serialized at all. 8 MiB is four times the largest
 * source file in a kernel tree; what is larger is generated tables, not driver code. Larger files
 * are not read; the language server applies the same limit to the documents it holds.
 */
export const MAX_ANALYZED_BYTES = 8 * 1024 * 1024;

/** The same limit, by the name the language server uses for documents. */
export const MAX_FILE_BYTES = MAX_ANALYZED_BYTES;

/** Why a text of `bytes` bytes is not analyzed, or undefined when it is within the limit. */
export function tooLargeToAnalyze(bytes: number): string | undefined {
  return bytes <= MAX_ANALYZED_BYTES ? undefined : tooLargeMessage(bytes);
}

/** "too large to analyze: 20.0 MiB, limit 8 MiB; not checked". */
export function tooLargeMessage(bytes: number): string {
  // Rounded up, so a file just over the limit never reads as being at it.
  const mib = (Math.ceil((bytes / 1048576) * 10) / 10).toFixed(1);
  return `too large to analyze: ${mib} MiB, limit ${MAX_ANALYZED_BYTES / 1048576} MiB; not checked`;
}
