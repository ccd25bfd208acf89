/** Runs a task when fewer than `max` tasks of the same limiter are running; otherwise queues it. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>

export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('limit must be a positive integer')
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so a caller arriving in
    // between cannot take it too and push the count past `max`.
    if (running >= max) await new Promise<void>(resolve => waiting.push(resolve))
    else running++
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

// One limiter per metrics server, shared by every policy read in this process, so that a
// repository with many policies still sends a server at most `max` queries at once.
const shared = new Map<string, Limiter>()

export function limiterFor(server: string, max: number): Limiter {
  const key = `${max} ${server}`
  let limiter = shared.get(key)
  if (!limiter) {
    limiter = createLimiter(max)
    shared.set(key, limiter)
  }
  return limiter
}
