export { IssueCollector, pointer } from '../../lib/issue-collector';
export { checkInstance } from './instance';
export { checkAcrossInstances } from './across';
export { checkReferences } from './references';
export { checkServices } from './services';
