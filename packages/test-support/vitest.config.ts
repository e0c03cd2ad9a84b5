import { raftkvProject } from "../../vitest.shared.ts";

export default raftkvProject("@raftkv/test-support");
