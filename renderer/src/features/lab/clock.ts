import { useEffect, useState } from 'react';

/** The current time in unix seconds, ticking every `intervalMs`. */
export function useNowSeconds(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const timer = setInterval(() => setNow(Math.floor(Date.now() / 1000)), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** "14:59" style countdown to an expiry, or "expired". */
export function countdown(expiry: number, now: number): string {
  const left = expiry - now;
  if (left <= 0) return 'expired';
  const minutes = Math.floor(left / 60);
  const seconds = left % 60;
  return `${minutes}:${seconds.toString().padStart(2, '0')}`;
}
