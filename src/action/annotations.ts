import * as core from '@actions/core'
import { isAbsolute, relative } from 'node:path'
import type { Policy } from '../engine/types.js'
import { PhasegateError } from '../errors.js'

/**
 * Where an error annotation points: the file relative to the repository root (what GitHub matches
 * against the PR's files), 1-based line and column. Undefined when the error has no file.
 */
export function annotationOf(
  error: unknown,
  workspace: string
): core.AnnotationProperties | undefined {
  if (!(error instanceof PhasegateError) || !error.location) return undefined
  const { file, line, col } = error.location
  return {
    title: 'phasegate',
    file: isAbsolute(file) ? relative(workspace, file) : file,
    ...(line === undefined ? {} : { startLine: line }),
    ...(col === undefined ? {} : { startColumn: col })
  }
}

/**
 * Fails the step with the error's one-line text. An error at a place in a file is an error
 * annotation on that file, line and column, so that it shows inline on the pull request's Files
 * tab; it is the failure's only annotation (setFailed would add a second one with no place).
 * Returns the text, for the job summary.
 */
export function failWith(error: unknown, workspace: string): string {
  const message =
    error instanceof PhasegateError
      ? error.format()
      : error instanceof Error
        ? error.message
        : String(error)
  const annotation = annotationOf(error, workspace)
  if (!annotation) {
    core.setFailed(message)
    return message
  }
  core.error(message, annotation)
  process.exitCode = core.ExitCode.Failure
  return message
}

/**
 * Every policy notice (what validation wants a person to know without refusing the policy) as a
 * warning annotation on its file, line and column, so that it shows inline on the pull request.
 */
export function warnNotices(
  policies: Array<Pick<Policy, 'notices' | 'noticeLocations'>>,
  workspace: string
): void {
  for (const policy of policies)
    (policy.notices ?? []).forEach((notice, i) => {
      const at = policy.noticeLocations?.[i]
      core.warning(
        notice,
        at
          ? {
              title: 'phasegate',
              file: isAbsolute(at.file) ? relative(workspace, at.file) : at.file,
              ...(at.line === undefined ? {} : { startLine: at.line }),
              ...(at.col === undefined ? {} : { startColumn: at.col })
            }
          : { title: 'phasegate' }
      )
    })
}
