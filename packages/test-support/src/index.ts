/** Helpers the raftkv packages share in their own tests. Private: not published. */
export { freePorts } from "./free-ports.js";
export {
  type ReadmeExampleOptions,
  type ReadmeExampleRun,
  runReadmeExample,
} from "./readme-example.js";
