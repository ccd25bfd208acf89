// Phasegate's branches: one standing advance PR and one rollback PR per feature at most.

export const advanceBranch = (feature: string) => `phasegate/${feature}/advance`
export const rollbackBranch = (feature: string) => `phasegate/${feature}/rollback`
