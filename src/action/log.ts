import * as core from '@actions/core'
import { actionsLogText } from '../report/escape/terminal.js'

/** core.info for text that holds anything phasegate did not write: see actionsLogText. */
export function logInfo(text: string): void {
  core.info(actionsLogText(text))
}
