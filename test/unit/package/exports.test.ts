import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// `import 'phasegate'` is how an application or a script uses the package: it must give a library
// and do nothing by itself. The action is dist/index.js (action.yml's entry), the CLI bin/phasegate.js.
// Runs Node on the built package (npm test builds lib/ first), resolving 'phasegate' through
// package.json "exports" as an installed copy would.

const root = fileURLToPath(new URL('../../../', import.meta.url))

function importInNode(code: string) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('GITHUB_') && !key.startsWith('INPUT_')
    )
  )
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    env,
    encoding: 'utf8'
  })
}

describe("the package's main export", () => {
  it('is a library: importing it runs no action and prints nothing', () => {
    const result = importInNode(
      "const m = await import('phasegate'); console.log(JSON.stringify(Object.keys(m).sort()))"
    )
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const names = JSON.parse(result.stdout) as string[]
    expect(names).toEqual(
      expect.arrayContaining(['loadPolicy', 'readState', 'decide', 'sdk', 'PhasegateError'])
    )
  })

  it('loads the seed policy and decides on it', () => {
    const result = importInNode(
      [
        "import { loadPolicy, initialState, decide, sdk } from 'phasegate'",
        "const policy = loadPolicy('policies/production_deployment.yaml')",
        "const state = initialState(policy, new Date('2026-01-01T00:00:00Z'))",
        "const decision = decide(policy, state, { readings: [], approvals: [], checks: [] }, new Date('2026-01-01T00:00:00Z'))",
        'console.log(state.phase, decision.action, sdk.currentPhase(policy, state).userPercentage)'
      ].join('\n')
    )
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toMatch(/^development hold \d+$/)
  })

  it('keeps phasegate/sdk', () => {
    const result = importInNode(
      "const m = await import('phasegate/sdk'); console.log(typeof m.isFeatureOn)"
    )
    expect(result.stdout.trim()).toBe('function')
  })
})
