/** Helpers the raftkv packages share in their own tests. Private: not published. */
export { createTestCertificates, type TestCertificates } from "./certs.js";
export { freePorts } from "./free-ports.js";
export {
  type ReadmeExampleOptions,
  type ReadmeExampleRun,
  runReadmeExample,
} from "./readme-example.js";
