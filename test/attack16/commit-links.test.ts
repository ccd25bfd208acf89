// attack16: commit links built from `git remote get-url origin`.
import { describe, expect, it } from 'vitest'
import { repositoryUrlFrom } from '../../src/report/dashboard/model.js'

describe('attack16: commit links from the origin remote', () => {
  it.each([
    ['https://github.com/acme/shop.git/', 'https://github.com/acme/shop'],
    ['git@github.com:acme/shop.git/', 'https://github.com/acme/shop']
  ])('%s (git accepts the trailing slash) links to %s', (origin, web) => {
    expect(repositoryUrlFrom({}, origin)).toBe(web)
  })

  it.each([
    'javascript:alert(1)//github.com/a/b',
    'javascript://github.com/%0aalert(1)//a/b',
    'data:text/html,<script>alert(1)</script>/a/b',
    'https://x-access-token:ghs_secret@github.com/acme/shop.git'
  ])('%s never yields a non-https link nor a credential (holds)', origin => {
    const url = repositoryUrlFrom({}, origin)
    if (url !== undefined) expect(url).toMatch(/^https:\/\/[^/@]+\//)
    expect(url ?? '').not.toContain('ghs_secret')
  })
})
