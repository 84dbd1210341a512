// The workflows the worker registers (this module is the bundle's entry point).
export { syncWorkflow } from './sync';
export type { SyncWorkflowInput } from './sync';
