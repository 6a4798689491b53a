// One way for every screen to ask a service and show its refusal (the problem's detail) in place.
import { useState } from "preact/hooks";
import { Problem } from "../api";

export type Attempt = (step: () => Promise<unknown>) => Promise<void>;

export function useAttempt(): [string, Attempt] {
  const [error, setError] = useState("");
  const attempt: Attempt = async (step) => {
    setError("");
    try {
      await step();
    } catch (failure) {
      setError(failure instanceof Problem ? failure.message : String(failure));
    }
  };
  return [error, attempt];
}

export function Refusal({ error }: { error: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
