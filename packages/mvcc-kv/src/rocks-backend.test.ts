import { backendSuite } from "./testdata/backend-suite.js";
import { rocksBackendFactory } from "./testdata/backends.js";

// wal-rocksdb's MVCC backend must follow the same rules as the in-memory one.
backendSuite(rocksBackendFactory);
