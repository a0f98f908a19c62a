"""A disposable MediaWiki 1.39 (Debian ``mediawiki``, SQLite, ``php -S``) on loopback for the tests.

The packaged tree in ``/usr/share/mediawiki`` is never written to: each wiki lives in its own
temporary directory (``LocalSettings.php`` + ``data/`` with the SQLite files) and MediaWiki finds
its settings through the ``MW_CONFIG_FILE`` environment variable (MediaWiki >= 1.38).

Installing, creating the accounts and loading the fixture pages is done once per process into a
*pristine* directory; every ``running_wiki()`` then copies that directory, so only the first
start pays for the installation.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mwclient

from tests.servers.common import free_port, wait_until

PHP = "php"
MW_ROOT = Path("/usr/share/mediawiki")
MAINTENANCE = MW_ROOT / "maintenance"
FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "wiki"

DB_NAME = "maillagetest"
ADMIN_USER = "Admin"
ADMIN_PASSWORD = "AdminPassw0rd-maillage-test-1234"
BOT_ACCOUNT = "SyncBot"
BOT_ACCOUNT_PASSWORD = "SyncBotPassw0rd-maillage-test-1234"
BOT_APPID = "sync"
# basic: read + assert; highvolume: apihighlimits & bot flag; editpage: edit existing pages;
# createeditmovepage: create and move pages. Deleting needs sysop rights, which SyncBot lacks.
BOT_GRANTS = "basic,highvolume,editpage,createeditmovepage"
HUMAN_USER = "Humain"
HUMAN_PASSWORD = "HumainPassw0rd-maillage-test-1234"
CHANGE_TAG = "hub-sync"
FIXTURE_SUMMARY = "fixture"
TEMPLATE_PREFIXES = ("Modèle:", "Template:")

EXTRA_SETTINGS = """
# ---- maillage test settings ----
$wgShowExceptionDetails = true;
$wgDevelopmentWarnings = false;
$wgEnableUploads = false;
$wgUseInstantCommons = false;
$wgEnableEmail = false;
$wgEmailAuthentication = false;
"""

# Saves many pages in one PHP process (maintenance/edit.php costs ~0.25 s of start-up per page).
# Reads a JSON list of [title, text] on stdin; same calls as maintenance/edit.php in 1.39.
LOAD_PAGES_PHP = r"""<?php
require_once getenv( 'MW_INSTALL_PATH' ) . '/maintenance/Maintenance.php';

use MediaWiki\MediaWikiServices;
use MediaWiki\Revision\SlotRecord;

class MaillageLoadPages extends Maintenance {
	public function __construct() {
		parent::__construct();
		$this->addOption( 'user', 'Username', true, true );
		$this->addOption( 'summary', 'Edit summary', false, true );
	}

	public function execute() {
		$user = User::newFromName( $this->getOption( 'user' ) );
		if ( !$user || $user->isAnon() ) {
			$this->fatalError( 'Invalid or unknown user' );
		}
		StubGlobalUser::setUser( $user );
		$summary = CommentStoreComment::newUnsavedComment( $this->getOption( 'summary', '' ) );
		$factory = MediaWikiServices::getInstance()->getWikiPageFactory();
		foreach ( json_decode( $this->getStdin( Maintenance::STDIN_ALL ), true ) as [ $name, $text ] ) {
			$title = Title::newFromText( $name );
			if ( !$title ) {
				$this->fatalError( "Invalid title: $name" );
			}
			$updater = $factory->newFromTitle( $title )->newPageUpdater( $user );
			$updater->setContent( SlotRecord::MAIN, ContentHandler::makeContent( $text, $title ) );
			$updater->saveRevision( $summary, 0 );
			if ( !$updater->getStatus()->isOK() ) {
				$this->fatalError( "Cannot save $name: " . $updater->getStatus()->getMessage( false, false, 'en' )->text() );
			}
			DeferredUpdates::doUpdates();
			$this->output( "saved $name\n" );
		}
	}
}

$maintClass = MaillageLoadPages::class;
require_once RUN_MAINTENANCE_IF_MAIN;
"""


def available() -> str | None:
    """None when a test MediaWiki can run here, else why not."""
    if shutil.which(PHP) is None:
        return "php-cli is not installed (apt-get install mediawiki php-cli php-sqlite3)"
    if not (MAINTENANCE / "install.php").is_file():
        return "the Debian mediawiki package is not installed (apt-get install mediawiki php-sqlite3)"
    try:
        modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"php -m failed: {exc}"
    if "pdo_sqlite" not in modules:
        return "PHP has no pdo_sqlite (apt-get install php-sqlite3)"
    return None


# ---------------------------------------------------------------- fixture pages


def read_fixture(path: Path) -> tuple[str, str]:
    """(title, wikitext) of one fixture file: first line ``# title: X``, then the wikitext."""
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    match = re.fullmatch(r"#\s*title:\s*(.+?)\s*", first)
    if match is None:
        raise ValueError(f"{path}: the first line must be '# title: <Page title>'")
    return match.group(1), body


def _load_fixture_pages() -> dict[str, str]:
    pages = [read_fixture(p) for p in sorted(FIXTURE_DIR.glob("*.wiki"))]
    templates = [p for p in pages if p[0].startswith(TEMPLATE_PREFIXES)]
    content = [p for p in pages if not p[0].startswith(TEMPLATE_PREFIXES)]
    ordered = dict(templates + content)
    if len(ordered) != len(pages):
        raise ValueError(f"two fixture files in {FIXTURE_DIR} share a title")
    return ordered


#: Title -> wikitext of every fixture page, templates first (the load order).
FIXTURE_PAGES: dict[str, str] = _load_fixture_pages()


# ---------------------------------------------------------------- maintenance scripts


def _env(wiki_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MW_CONFIG_FILE": str(wiki_dir / "LocalSettings.php"),
        "MW_INSTALL_PATH": str(MW_ROOT),
    }


def _php(
    wiki_dir: Path, script: str | Path, *args: str, stdin: str | None = None, timeout: float = 120
) -> str:
    """Run ``maintenance/<script>`` (or the PHP file at a given path) against the wiki in ``wiki_dir``."""
    result = subprocess.run(
        [PHP, str(MAINTENANCE / script), *args],
        input=stdin,
        env=_env(wiki_dir),
        cwd=wiki_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"maintenance/{script} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


@dataclass(frozen=True)
class _Pristine:
    dir: Path
    bot_password: str


def _install(wiki_dir: Path, fixtures: bool) -> _Pristine:
    data = wiki_dir / "data"
    data.mkdir(parents=True)
    _php(
        wiki_dir, "install.php",
        "--dbtype=sqlite", f"--dbpath={data}", f"--dbname={DB_NAME}",
        "--server=http://127.0.0.1", "--scriptpath=", f"--confpath={wiki_dir}",
        "--lang=fr", "--skins=Vector", "--extensions=Cite,ParserFunctions",
        f"--pass={ADMIN_PASSWORD}", "Wiki de test maillage", ADMIN_USER,
    )  # fmt: skip
    with (wiki_dir / "LocalSettings.php").open("a", encoding="utf-8") as settings:
        settings.write(EXTRA_SETTINGS)
    _php(wiki_dir, "createAndPromote.php", BOT_ACCOUNT, BOT_ACCOUNT_PASSWORD, "--bot")
    _php(wiki_dir, "createAndPromote.php", HUMAN_USER, HUMAN_PASSWORD)
    out = _php(
        wiki_dir, "createBotPassword.php", f"--appid={BOT_APPID}", f"--grants={BOT_GRANTS}", BOT_ACCOUNT
    )
    match = re.search(r"password:'([^']+)'", out)
    if match is None:
        raise RuntimeError(f"cannot read the bot password in createBotPassword.php's output: {out!r}")
    _php(wiki_dir, "addChangeTag.php", f"--tag={CHANGE_TAG}", "--reason=Synchronisation avec le hub maillage")
    if fixtures:
        loader = wiki_dir / "load_pages.php"
        loader.write_text(LOAD_PAGES_PHP, encoding="utf-8")
        pages = json.dumps(list(FIXTURE_PAGES.items()))
        _php(wiki_dir, loader, f"--user={ADMIN_USER}", f"--summary={FIXTURE_SUMMARY}", stdin=pages)
        loader.unlink()
        _php(wiki_dir, "runJobs.php")
    return _Pristine(dir=wiki_dir, bot_password=match.group(1))


_pristine: dict[bool, _Pristine] = {}
_pristine_lock = threading.Lock()


def _remove_pristine() -> None:
    for item in _pristine.values():
        shutil.rmtree(item.dir, ignore_errors=True)


atexit.register(_remove_pristine)


def _pristine_wiki(fixtures: bool) -> _Pristine:
    """The installed (and loaded) wiki of this process, built on first use."""
    with _pristine_lock:
        if fixtures not in _pristine:
            wiki_dir = Path(tempfile.mkdtemp(prefix="maillage-mw-pristine-"))
            try:
                _pristine[fixtures] = _install(wiki_dir, fixtures)
            except BaseException:
                shutil.rmtree(wiki_dir, ignore_errors=True)
                raise
        return _pristine[fixtures]


def _copy_wiki(source: Path, target: Path, port: int, sitename: str) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
    settings = (target / "LocalSettings.php").read_text(encoding="utf-8")
    settings = settings.replace(str(source), str(target))
    settings = re.sub(r"(?m)^\$wgServer = .*$", f'$wgServer = "http://127.0.0.1:{port}";', settings)
    settings += f"$wgSitename = {json.dumps(sitename)};\n"
    (target / "LocalSettings.php").write_text(settings, encoding="utf-8")


# ---------------------------------------------------------------- the running wiki


@dataclass
class Wiki:
    """A running test wiki. Accounts: Admin (sysop), SyncBot (bot, through a bot password), Humain."""

    api_url: str
    host: str
    path: str
    scheme: str
    sitename: str
    bot_user: str
    bot_password: str
    human_user: str
    human_password: str
    admin_user: str
    admin_password: str
    dir: Path
    change_tag: str = CHANGE_TAG
    _sites: dict[str, mwclient.Site] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the wiki (``api.php`` and ``index.php`` live right under it)."""
        return f"{self.scheme}://{self.host}"

    # -- clients

    def new_site(self, who: str = "anon", **options: Any) -> mwclient.Site:
        """A fresh mwclient ``Site``, logged in as ``who`` ("anon", "bot", "human" or "admin")."""
        options.setdefault("clients_useragent", "maillage-tests/0 (test wiki)")
        options.setdefault("retry_timeout", 1)
        options.setdefault("max_retries", 2)
        site = mwclient.Site(self.host, path=self.path, scheme=self.scheme, **options)
        if who == "bot":
            site.login(self.bot_user, self.bot_password)
        elif who == "human":
            site.clientlogin(username=self.human_user, password=self.human_password)
        elif who == "admin":
            site.clientlogin(username=self.admin_user, password=self.admin_password)
        elif who != "anon":
            raise ValueError(f"unknown account {who!r}")
        return site

    def site(self, who: str = "anon") -> mwclient.Site:
        """A cached logged-in mwclient ``Site`` for the helpers (do not change its state)."""
        with self._lock:
            if who not in self._sites:
                self._sites[who] = self.new_site(who)
            return self._sites[who]

    def _post(self, who: str, action: str, **params: Any) -> dict[str, Any]:
        site = self.site(who)
        result: dict[str, Any] = site.post(action, token=site.get_token("csrf"), **params)
        return result

    # -- simulated wiki activity

    def edit_as_human(self, title: str, text: str, summary: str = "", **params: Any) -> dict[str, Any]:
        """Save ``text`` as Humain (extra API params pass through, e.g. ``baserevid``).

        Returns the API's ``edit`` object (``result``, ``newrevid``, ``newtimestamp``…).
        """
        params.setdefault("assert", "user")
        reply = self._post("human", "edit", title=title, text=text, summary=summary, **params)
        edit: dict[str, Any] = reply["edit"]
        if edit.get("result") != "Success":
            raise RuntimeError(f"human edit of {title!r} failed: {edit}")
        return edit

    def delete(self, title: str, reason: str = "") -> dict[str, Any]:
        """Delete a page as Admin."""
        return self._post("admin", "delete", title=title, reason=reason)["delete"]

    def undelete(self, title: str, reason: str = "") -> dict[str, Any]:
        """Restore all deleted revisions of a page as Admin."""
        return self._post("admin", "undelete", title=title, reason=reason)["undelete"]

    def move(self, old: str, new: str, reason: str = "", redirect: bool = True) -> dict[str, Any]:
        """Rename a page as Admin; ``redirect=False`` leaves no redirect behind."""
        params: dict[str, Any] = {"from": old, "to": new, "reason": reason}
        if not redirect:
            params["noredirect"] = 1
        return self._post("admin", "move", **params)["move"]

    # -- inspection

    def api(self, **params: Any) -> dict[str, Any]:
        """An anonymous GET on api.php (``format=json&formatversion=2`` added)."""
        reply = httpx.get(self.api_url, params={"format": "json", "formatversion": "2", **params}, timeout=30)
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        if "error" in data:
            raise RuntimeError(f"API error: {data['error']}")
        return data

    def page_text(self, title: str) -> str:
        """Current wikitext of a page, "" when it does not exist."""
        data = self.api(action="query", prop="revisions", rvprop="content", rvslots="main", titles=title)
        page = data["query"]["pages"][0]
        if page.get("missing") or page.get("invalid"):
            return ""
        return str(page["revisions"][0]["slots"]["main"]["content"])

    def run_jobs(self) -> None:
        """Run the job queue now (categories, embeddedin and other link tables)."""
        _php(self.dir, "runJobs.php")

    def maintenance(self, script: str, *args: str, stdin: str | None = None) -> str:
        """Run any ``maintenance/<script>`` against this wiki; return its stdout."""
        return _php(self.dir, script, *args, stdin=stdin)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``php -S`` and its workers (they share the process group we created for it)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_wiki(fixtures: bool = True, workers: int = 4) -> Iterator[Wiki]:
    """A fresh wiki in a temporary directory served by ``php -S``; stopped and removed afterwards."""
    pristine = _pristine_wiki(fixtures)
    wiki_dir = Path(tempfile.mkdtemp(prefix="maillage-mw-"))
    port = free_port()
    sitename = f"Wiki de test maillage {secrets.token_hex(4)}"
    _copy_wiki(pristine.dir, wiki_dir, port, sitename)
    log_path = wiki_dir / "php-server.log"
    base = f"http://127.0.0.1:{port}"
    api_url = f"{base}/api.php"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [PHP, "-S", f"127.0.0.1:{port}", "-t", str(MW_ROOT)],
            env={**_env(wiki_dir), "PHP_CLI_SERVER_WORKERS": str(workers)},
            cwd=wiki_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

        def ours() -> bool:
            if proc.poll() is not None:
                return True  # reported below, no need to wait for the timeout
            reply = httpx.get(
                api_url, params={"action": "query", "meta": "siteinfo", "format": "json"}, timeout=5
            )
            return bool(reply.json()["query"]["general"]["sitename"] == sitename)

        try:
            try:
                wait_until(ours, 30, "MediaWiki (php -S)")
            except TimeoutError as exc:
                raise RuntimeError(
                    f"{exc}; php -S log:\n{log_path.read_text(errors='replace')[-3000:]}"
                ) from exc
            if proc.poll() is not None:
                raise RuntimeError(f"php -S exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            yield Wiki(
                api_url=api_url,
                host=f"127.0.0.1:{port}",
                path="/",
                scheme="http",
                sitename=sitename,
                bot_user=f"{BOT_ACCOUNT}@{BOT_APPID}",
                bot_password=pristine.bot_password,
                human_user=HUMAN_USER,
                human_password=HUMAN_PASSWORD,
                admin_user=ADMIN_USER,
                admin_password=ADMIN_PASSWORD,
                dir=wiki_dir,
            )
        finally:
            _stop(proc)
            shutil.rmtree(wiki_dir, ignore_errors=True)
