export type {
  BackendEntry,
  BackendOperation,
  BackendRangeOptions,
  BackendReader,
  BackendSnapshot,
  BackendWriteBatch,
  MvccBackend,
} from "./backend.js";
