import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../../src/metrics/limit.js'

describe('createLimiter', () => {
  it('never runs more than the limit at once, and runs every task', async () => {
    const limit = createLimiter(3)
    let running = 0
    let most = 0
    const task = (i: number) => async () => {
      running++
      most = Math.max(most, running)
      await new Promise(resolve => setTimeout(resolve, i % 4))
      running--
      return i
    }
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => limit(task(i))))
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(most).toBe(3)
  })

  it('keeps the limit when a new task arrives just as one finishes', async () => {
    const limit = createLimiter(1)
    let running = 0
    let most = 0
    const finishers: Array<() => void> = []
    const task = () => {
      running++
      most = Math.max(most, running)
      return new Promise<void>(resolve => finishers.push(resolve)).then(() => {
        running--
      })
    }
    const first = limit(task)
    const second = limit(task)
    // The first task ends, and new callers arrive a few microtasks later, around the moment its
    // slot passes to the queued second task.
    finishers.shift()!()
    const late: Array<Promise<void>> = []
    const atDepth = (depth: number, run: () => void) =>
      depth === 0 ? run() : queueMicrotask(() => atDepth(depth - 1, run))
    for (let depth = 1; depth <= 8; depth++)
      late.push(new Promise<void>(resolve => atDepth(depth, () => void limit(task).then(resolve))))
    await first
    await new Promise(resolve => setTimeout(resolve, 5))
    while (finishers.length) {
      finishers.shift()!()
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    await Promise.all([second, ...late])
    expect(most).toBe(1)
  })

  it('frees the slot of a task that fails', async () => {
    const limit = createLimiter(1)
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(limit(async () => 'next')).resolves.toBe('next')
  })
})
