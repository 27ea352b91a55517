// The agent's own exit statuses. EXIT_BAD_ENVIRONMENT (64) lives with the image
// contract in components/imageContract.ts; the lead places both together.

/**
 * The agent's exit status after an unexpected failure (an uncaught exception or unhandled
 * rejection): sysexits' EX_SOFTWARE. The restart policy starts a fresh runner; a status
 * apart from EXIT_BAD_ENVIRONMENT's tells the two causes apart in `docker ps -a`.
 */
export const EXIT_UNEXPECTED_FAILURE = 70;
