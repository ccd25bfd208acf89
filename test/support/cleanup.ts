import { afterAll } from 'vitest'
import { removeTempRepos } from './repo.js'

// Temporary git repositories made by tempRepo() are removed once their test file is done.
afterAll(removeTempRepos)
