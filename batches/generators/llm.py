"""
Stories from a language model, through the OpenAI-compatible chat-completions
API that hosted services and local servers (vLLM, llama.cpp, Ollama) share.

The generator runs in the worker's threads, ``concurrency`` of them at once:
it holds one HTTP client, which is thread-safe, and one rate limiter, and it
never touches the database.
"""

import email.utils
import logging
import math
import re
import threading
import time
from datetime import UTC, datetime

import httpx
from django.core.exceptions import ImproperlyConfigured

from batches.conf import conf
from batches.generators.base import GenerationError, Story, StoryGenerator
from batches.generators.rendering import compile_story_template, render_or_fail

logger = logging.getLogger(__name__)

DEFAULT_PROMPT_TEMPLATE = (
    "Write a short biography, about 120 words of plain prose, of {{ name }}. "
    "Use only the facts below; do not invent any.\n"
    "{% for key, value in fields.items %}{% if value %}"
    "\n- {{ key|label }}: {{ value }}{% endif %}{% endfor %}"
)

# Answers after which the same request may well succeed later: the server
# timed out, is rate limiting, or is overloaded.
TRANSIENT_STATUSES = {408, 425, 429}

# How servers word "the prompt does not fit the model's context window":
# OpenAI's code, and the phrases vLLM, llama.cpp and Ollama use.
PROMPT_TOO_LONG = re.compile(
    r"context[_ ]length|context (?:window|size)|maximum context|too long"
    r"|too many tokens",
    re.IGNORECASE,
)

SERVER_MESSAGE_LIMIT = 300
REDACTED = "[redacted]"


class ChatCompletionGenerator(StoryGenerator):
    """Renders the batch's prompt template over a profile and asks the model
    for the story."""

    def __init__(self, config):
        super().__init__(config)
        self.base_url = _base_url()
        self.model = _model(config.options)
        self.temperature = _temperature(config.options)
        self.max_tokens = int(conf.LLM_MAX_TOKENS)
        self.timeout = float(conf.LLM_TIMEOUT)
        self.concurrency = max(1, int(conf.LLM_CONCURRENCY))
        self.prompt_template = compile_story_template(
            config.template or DEFAULT_PROMPT_TEMPLATE
        )
        self._api_key = conf.LLM_API_KEY
        self._url = f"{self.base_url}/chat/completions"
        self._limiter = shared_rate_limiter(
            self.base_url, int(conf.LLM_REQUESTS_PER_MINUTE)
        )
        self._client = httpx.Client(
            headers=self._headers(),
            # httpx applies this to each phase (connect, each read): a
            # chat completion that is not streamed sends nothing until it is
            # done, so the read timeout bounds the whole answer.
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=self.concurrency,
                max_keepalive_connections=self.concurrency,
            ),
        )

    def generate(self, profile):
        prompt = self._prompt(profile)
        started = time.monotonic()
        try:
            self._limiter.wait()
            story = self._complete(prompt)
        except GenerationError as error:
            safe = self._without_secret(error)
            logger.debug(
                "chat completion failed profile=%s model=%s transient=%s error=%r",
                profile.external_id,
                self.model,
                safe.transient,
                safe.message,
            )
            # Chained to the HTTP error, never to the message that held the key.
            raise safe from error.__cause__

        logger.debug(
            "chat completion done profile=%s model=%s prompt_tokens=%s "
            "completion_tokens=%s seconds=%.2f",
            profile.external_id,
            self.model,
            story.prompt_tokens,
            story.completion_tokens,
            time.monotonic() - started,
        )
        return story

    def close(self):
        self._client.close()

    def _headers(self):
        headers = {"User-Agent": "storybatch"}
        # Local servers usually need no key; send none rather than an empty
        # one, which some of them reject.
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _prompt(self, profile):
        return render_or_fail(
            self.prompt_template, profile, what="prompt template", makes="prompt"
        )

    def _complete(self, prompt):
        payload = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        response = self._post(payload)
        if response.status_code != httpx.codes.OK:
            raise error_for_status(
                response, model=self.model, has_api_key=bool(self._api_key)
            )
        return story_from_answer(response, max_tokens=self.max_tokens)

    def _post(self, payload):
        try:
            return self._client.post(self._url, json=payload)
        except httpx.ConnectTimeout as error:
            raise GenerationError(
                f"Could not connect to the model server within {self.timeout:g} "
                "seconds.",
                transient=True,
            ) from error
        except httpx.TimeoutException as error:
            raise GenerationError(
                f"The model server did not answer within {self.timeout:g} seconds.",
                transient=True,
            ) from error
        except httpx.ConnectError as error:
            raise GenerationError(
                f"Could not connect to the model server: {error}.", transient=True
            ) from error
        except httpx.UnsupportedProtocol as error:
            raise GenerationError(
                f"STORYBATCH_LLM_BASE_URL is not usable: {error}"
            ) from error
        except httpx.RequestError as error:
            # The connection broke mid-answer (reset, protocol error, a body
            # that would not decode): the next attempt gets a fresh one.
            raise GenerationError(
                "The connection to the model server failed: "
                f"{type(error).__name__}: {error}",
                transient=True,
            ) from error

    def _without_secret(self, error):
        """The error, with the API key cut out of its message: servers
        sometimes quote the key they refused, and messages are stored."""
        if not self._api_key or self._api_key not in error.message:
            return error
        return GenerationError(
            error.message.replace(self._api_key, REDACTED),
            transient=error.transient,
            retry_after=error.retry_after,
        )


# -- Settings and options ------------------------------------------------------


def _base_url():
    base_url = (conf.LLM_BASE_URL or "").strip().rstrip("/")
    if not base_url:
        raise ImproperlyConfigured(
            "No language model server is configured: set STORYBATCH_LLM_BASE_URL."
        )
    if not base_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            "STORYBATCH_LLM_BASE_URL must start with http:// or https://."
        )
    return base_url


def _model(options):
    model = options.get("model") or conf.LLM_MODEL
    if not isinstance(model, str) or not model.strip():
        raise ImproperlyConfigured(
            "No language model is named: set STORYBATCH_LLM_MODEL or the "
            "batch's 'model' option."
        )
    return model.strip()


def _temperature(options):
    temperature = options.get("temperature", conf.LLM_TEMPERATURE)
    # bool is an int to Python, never a temperature to a user.
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise ImproperlyConfigured(
            "The temperature must be a number from 0 to 2, not "
            f"{temperature!r}; check the batch's 'temperature' option."
        )
    return float(temperature)


# -- Reading the server's answer -----------------------------------------------


def story_from_answer(response, *, max_tokens):
    """The story in a chat completion, or GenerationError saying what is
    wrong with the answer."""
    try:
        answer = response.json()
    except ValueError as error:
        # Transient: a body that is not JSON at all is most often a proxy's
        # or gateway's error page, or an answer cut short; the next attempt
        # usually reaches the model server whole. A server that never
        # speaks JSON fails after the batch's attempts, with this reason.
        raise GenerationError(
            "The model server's answer is not JSON "
            f"(content type {response.headers.get('content-type', 'none')!r}).",
            transient=True,
        ) from error

    choice = _first_choice(answer)
    if choice is None:
        # Not transient: well-formed JSON without choices is a server that
        # speaks some other API, or an error it chose to send with HTTP
        # 200; asking again gets the same answer.
        said = _error_text(answer)
        raise GenerationError(
            "The model server's answer has no choices, so it is not a chat "
            "completion" + (f": {said}" if said else ".")
        )

    text = _message_text(choice)
    if not text:
        raise _empty_answer_error(choice.get("finish_reason"), max_tokens)

    usage = answer.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return Story(
        text=text,
        prompt_tokens=_token_count(usage.get("prompt_tokens")),
        completion_tokens=_token_count(usage.get("completion_tokens")),
    )


def _first_choice(answer):
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices:
        return None
    return choices[0] if isinstance(choices[0], dict) else None


def _message_text(choice):
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content.strip() if isinstance(content, str) else ""


def _empty_answer_error(finish_reason, max_tokens):
    if finish_reason == "length":
        # Not transient: the same budget runs out the same way (models that
        # think before they answer spend it all on thinking).
        return GenerationError(
            f"The model used all {max_tokens} tokens it may write without "
            "writing a story; raise STORYBATCH_LLM_MAX_TOKENS."
        )
    if finish_reason == "content_filter":
        return GenerationError("The model server withheld the story (content filter).")
    # Transient: sampling gives a different answer each time, and a model
    # that stopped at once on one attempt usually writes on the next.
    return GenerationError("The model returned an empty story.", transient=True)


def _token_count(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


# -- Classifying error answers -------------------------------------------------


def error_for_status(response, *, model, has_api_key=True):
    """A GenerationError that says in plain words why the server refused,
    and whether asking again later may succeed."""
    status = response.status_code
    said = server_message(response)
    detail = f"HTTP {status}: {said}" if said else f"HTTP {status}"

    if status in TRANSIENT_STATUSES or status >= 500:
        reason = "is rate limiting requests" if status == 429 else "could not answer"
        return GenerationError(
            f"The model server {reason} ({detail}).",
            transient=True,
            retry_after=retry_after_seconds(response.headers),
        )

    if status == 401:
        # The server's own words are left out: some quote the key back.
        if not has_api_key:
            return GenerationError(
                "The model server wants an API key and none is set: set "
                "STORYBATCH_LLM_API_KEY (HTTP 401)."
            )
        return GenerationError("The model server refused the API key (HTTP 401).")

    if status == 403:
        return GenerationError(
            f"The API key may not use this model server or model ({detail})."
        )

    if status == 404:
        if "model" in said.lower():
            return GenerationError(f"Unknown model {model!r} ({detail}).")
        return GenerationError(
            f"The model server has no chat-completions endpoint at this address "
            f"({detail}); check STORYBATCH_LLM_BASE_URL, which usually ends "
            "in /v1."
        )

    if status == 413 or (status in (400, 422) and PROMPT_TOO_LONG.search(said)):
        return GenerationError(f"The prompt is too long for the model ({detail}).")

    if 300 <= status < 400:
        return GenerationError(
            f"The model server redirected the request ({detail}); set "
            "STORYBATCH_LLM_BASE_URL to the address it redirects to."
        )

    return GenerationError(f"The model server rejected the request ({detail}).")


def server_message(response):
    """What the server said went wrong, in its own words, on one line and
    shortened; empty when it said nothing readable."""
    try:
        text = _error_text(response.json())
    except ValueError:
        text = response.text
    text = " ".join(text.split())
    if len(text) > SERVER_MESSAGE_LIMIT:
        text = text[: SERVER_MESSAGE_LIMIT - 1] + "…"
    return text


def _error_text(body):
    """The message in an error body, in any of the shapes servers use:
    ``{"error": {"message": ...}}``, ``{"error": "..."}`` or
    ``{"message": ...}``."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    if isinstance(error, str):
        return error
    message = body.get("message")
    return message if isinstance(message, str) else ""


def retry_after_seconds(headers, *, now=None):
    """The server's advice on when to come back, in seconds, or None.
    ``Retry-After`` is either seconds or an HTTP date; some servers also
    send the finer ``retry-after-ms``."""
    milliseconds = _finite_seconds(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000

    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None

    seconds = _finite_seconds(value)
    if seconds is not None:
        return seconds

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _finite_seconds(value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


# -- Pacing requests -----------------------------------------------------------


class RequestRateLimiter:
    """Spaces requests evenly, ``per_minute`` of them a minute at most, for
    any number of threads.

    Even spacing rather than a bucket that allows bursts: servers count
    their limits over windows of their own choosing, often shorter than a
    minute, and a burst at the start of every task would trip them.
    """

    def __init__(self, per_minute, *, clock=time.monotonic, sleep=time.sleep):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive.")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = -math.inf

    def wait(self):
        """Block until the caller may send; returns how long it waited."""
        # Each caller books the next free slot under the lock, then sleeps
        # outside it, so that waiting threads never hold each other up.
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


class _Unlimited:
    interval = 0.0

    def wait(self):
        return 0.0


_shared_limiters = {}
_shared_limiters_lock = threading.Lock()


def shared_rate_limiter(base_url, per_minute):
    """The process's one limiter for this server and rate.

    Each task of a worker builds a fresh generator; sharing the limiter
    keeps the pace across those hand-overs. It is not shared between
    worker processes: N workers together send up to N times the rate.
    """
    if per_minute <= 0:
        return _Unlimited()
    key = (base_url, per_minute)
    with _shared_limiters_lock:
        if key not in _shared_limiters:
            _shared_limiters[key] = RequestRateLimiter(per_minute)
        return _shared_limiters[key]


def configuration_problem(options):
    """Why a batch with these options could not reach a model now, or ""."""
    try:
        _base_url()
        _model(options)
        _temperature(options)
    except ImproperlyConfigured as error:
        return str(error)
    return ""
