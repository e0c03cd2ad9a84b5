import type { RunnerConfig, RunnerResult } from "./load-runner.js";

/** Parent → worker: connect with this config and report "ready". */
export interface InitMessage {
  type: "init";
  config: RunnerConfig;
}

/** Parent → worker: start the load now. */
export interface StartMessage {
  type: "start";
}

/** Worker → parent: connections are open, waiting for "start". */
export interface ReadyMessage {
  type: "ready";
}

/** Worker → parent: the run finished. */
export interface ResultMessage {
  type: "result";
  result: RunnerResult;
}

/** Worker → parent: the run could not happen. */
export interface FailedMessage {
  type: "failed";
  code: string;
  message: string;
}

export type ParentMessage = InitMessage | StartMessage;
export type WorkerMessage = ReadyMessage | ResultMessage | FailedMessage;
