// Short confirmations ("Copied") announced to screen readers through a live region.
export const toasts = $state<{ id: number; text: string }[]>([]);
let next = 1;

export function toast(text: string) {
  const id = next++;
  toasts.push({ id, text });
  setTimeout(() => {
    const i = toasts.findIndex((t) => t.id === id);
    if (i >= 0) toasts.splice(i, 1);
  }, 2500);
}
