// Phasegate's branches: one standing advance PR, one rollback PR and one
// resume PR per feature at most.

export const advanceBranch = (feature: string) => `phasegate/${feature}/advance`
export const rollbackBranch = (feature: string) => `phasegate/${feature}/rollback`
export const resumeBranch = (feature: string) => `phasegate/${feature}/resume`
