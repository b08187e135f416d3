"""The composition root: configuration -> database -> stores -> services -> HTTP apps.

This is the only module that constructs stores and services; everything else receives
its collaborators through its constructor (or, for route handlers, the `HomeServer`
container). To add a domain: add its store to `Stores`, its service to `HomeServer`,
construct both in `build_homeserver`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from nacl.signing import SigningKey

from ranvier.api import admin, client, federation, media
from ranvier.api.http import (
    HOMESERVER,
    TRUST_X_FORWARDED,
    add_cors_headers,
    error_middleware,
)
from ranvier.api.ratelimit import Ratelimiter
from ranvier.clock import Clock
from ranvier.config import Config, ListenerConfig, read_signing_key
from ranvier.notifier import EVENTS_STREAM, Notifier
from ranvier.services.account_data import AccountDataService
from ranvier.services.accounts import AccountsService
from ranvier.services.auth import AuthService
from ranvier.services.client_events import ClientEventSerializer
from ranvier.services.deactivation import AccountDeactivator
from ranvier.services.dehydrated_devices import DehydratedDevicesService
from ranvier.services.device_activity import DeviceActivity
from ranvier.services.device_lists import DeviceListsService
from ranvier.services.devices import DevicesService
from ranvier.services.directory import DirectoryService
from ranvier.services.e2e_keys import E2EKeysService
from ranvier.services.event_persister import EventPersister
from ranvier.services.events import EventCreator
from ranvier.services.filters import FilterService
from ranvier.services.guest_access import GuestAccessService
from ranvier.services.hierarchy import HierarchyService
from ranvier.services.key_backup import KeyBackupService
from ranvier.services.legacy_sync import LegacySyncService
from ranvier.services.media import MediaService
from ranvier.services.media_storage import FileMediaStorage
from ranvier.services.membership import MembershipService
from ranvier.services.notification_history import NotificationHistory
from ranvier.services.notifications import NotificationsService
from ranvier.services.openid import OpenIdService
from ranvier.services.passwords import PasswordHasher
from ranvier.services.presence import PresenceService
from ranvier.services.profiles import ProfileService
from ranvier.services.push_rules import PUSH_RULES_STREAM, PushRulesService
from ranvier.services.pushers import PushersService
from ranvier.services.receipts import ReceiptsService
from ranvier.services.redactions import Redactor
from ranvier.services.registration_tokens import RegistrationTokensService
from ranvier.services.relations import RelationsService
from ranvier.services.reports import ReportsService
from ranvier.services.room_reader import RoomReader
from ranvier.services.room_summary import RoomSummaryService
from ranvier.services.room_upgrade import RoomUpgrader
from ranvier.services.rooms import RoomService
from ranvier.services.search import SearchService
from ranvier.services.shared_secret import SharedSecretRegistration
from ranvier.services.state_resolver import StateResolver
from ranvier.services.sync import SyncService, SyncSources
from ranvier.services.sync_rooms import SyncRoomBuilder
from ranvier.services.tags import TagsService
from ranvier.services.to_device import ToDeviceService
from ranvier.services.typing import TypingService
from ranvier.services.uia import UIAService
from ranvier.services.url_preview import UrlPreviewService
from ranvier.services.user_directory import UserDirectoryService
from ranvier.services.visibility import VisibilityChecker
from ranvier.services.voip import VoipService
from ranvier.storage.account_data import AccountDataStore
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.database import Database, open_database
from ranvier.storage.dehydrated_devices import DehydratedDeviceStore
from ranvier.storage.device_lists import DeviceListsStore
from ranvier.storage.devices import DevicesStore
from ranvier.storage.directory import DirectoryStore
from ranvier.storage.e2e_keys import E2EKeysStore
from ranvier.storage.events import EventsStore
from ranvier.storage.filters import FilterStore
from ranvier.storage.key_backup import KeyBackupStore
from ranvier.storage.media import MediaStore
from ranvier.storage.notifications import NotificationsStore
from ranvier.storage.openid import OpenIdStore
from ranvier.storage.presence import PresenceStore
from ranvier.storage.profiles import ProfileStore
from ranvier.storage.push_rules import PushRulesStore
from ranvier.storage.pushers import PushersStore
from ranvier.storage.receipts import ReceiptsStore
from ranvier.storage.relations import RelationsStore
from ranvier.storage.reports import ReportsStore
from ranvier.storage.room_stream import RoomStreamStore
from ranvier.storage.rooms import RoomStore
from ranvier.storage.search import SearchStore
from ranvier.storage.state import StateStore
from ranvier.storage.to_device import ToDeviceStore
from ranvier.storage.uia import UIAStore
from ranvier.storage.user_directory import UserDirectoryStore

logger = logging.getLogger(__name__)


@dataclass
class Stores:
    accounts: AccountsStore
    devices: DevicesStore
    uia: UIAStore
    media: MediaStore
    events: EventsStore
    state: StateStore
    rooms: RoomStore
    profiles: ProfileStore
    push_rules: PushRulesStore
    directory: DirectoryStore
    relations: RelationsStore
    user_directory: UserDirectoryStore
    account_data: AccountDataStore
    receipts: ReceiptsStore
    presence: PresenceStore
    filters: FilterStore
    room_stream: RoomStreamStore
    e2e_keys: E2EKeysStore
    device_lists: DeviceListsStore
    to_device: ToDeviceStore
    key_backup: KeyBackupStore
    dehydrated_devices: DehydratedDeviceStore
    search: SearchStore
    pushers: PushersStore
    openid: OpenIdStore
    reports: ReportsStore
    notifications: NotificationsStore


@dataclass
class HomeServer:
    """Everything a route handler may reach, built once and passed explicitly."""

    config: Config
    db: Database
    clock: Clock
    signing_key: SigningKey
    stores: Stores
    ratelimiter: Ratelimiter
    auth: AuthService
    accounts: AccountsService
    deactivation: AccountDeactivator
    devices: DevicesService
    device_activity: DeviceActivity
    uia: UIAService
    registration_tokens: RegistrationTokensService
    shared_secret: SharedSecretRegistration
    media: MediaService
    url_previews: UrlPreviewService
    notifier: Notifier
    persister: EventPersister
    event_creator: EventCreator
    membership: MembershipService
    guest_access: GuestAccessService
    rooms: RoomService
    room_upgrader: RoomUpgrader
    redactor: Redactor
    client_events: ClientEventSerializer
    profiles: ProfileService
    directory: DirectoryService
    relations: RelationsService
    user_directory: UserDirectoryService
    notifications: NotificationsService
    push_rules: PushRulesService
    account_data: AccountDataService
    tags: TagsService
    typing: TypingService
    receipts: ReceiptsService
    presence: PresenceService
    filters: FilterService
    visibility: VisibilityChecker
    sync: SyncService
    legacy_sync: LegacySyncService
    room_reader: RoomReader
    e2e_keys: E2EKeysService
    device_lists: DeviceListsService
    to_device: ToDeviceService
    key_backup: KeyBackupService
    dehydrated_devices: DehydratedDevicesService
    search: SearchService
    room_summaries: RoomSummaryService
    hierarchy: HierarchyService
    reports: ReportsService
    notification_history: NotificationHistory
    pushers: PushersService
    voip: VoipService
    openid: OpenIdService

    @property
    def server_name(self) -> str:
        return self.config.server_name

    async def close(self) -> None:
        """Stop background work. The database belongs to whoever opened it."""
        await self.guest_access.settle()
        await self.persister.close()
        self.typing.close()
        await self.presence.close()


async def build_homeserver(
    config: Config, db: Database, clock: Clock | None = None
) -> HomeServer:
    clock = clock or Clock()
    state = StateStore(db, config.caches.scaled(config.caches.state_cache_entries))
    rooms = RoomStore(db)
    events = EventsStore(db, state, rooms, config.caches.scaled(config.caches.event_cache_size))
    stores = Stores(
        accounts=AccountsStore(db),
        devices=DevicesStore(db),
        uia=UIAStore(db),
        media=MediaStore(db),
        events=events,
        state=state,
        rooms=rooms,
        profiles=ProfileStore(db),
        push_rules=PushRulesStore(db),
        directory=DirectoryStore(db),
        relations=RelationsStore(db),
        user_directory=UserDirectoryStore(db),
        account_data=AccountDataStore(db),
        receipts=ReceiptsStore(db),
        presence=PresenceStore(db),
        filters=FilterStore(db),
        room_stream=RoomStreamStore(db, events),
        e2e_keys=E2EKeysStore(db),
        device_lists=DeviceListsStore(db),
        to_device=ToDeviceStore(db),
        key_backup=KeyBackupStore(db),
        dehydrated_devices=DehydratedDeviceStore(db),
        search=SearchStore(db),
        pushers=PushersStore(db),
        openid=OpenIdStore(db),
        reports=ReportsStore(db),
        notifications=NotificationsStore(db),
    )
    await stores.state.start()
    await stores.events.start()
    stores.room_stream.start(stores.events.stream.current)
    stores.events.add_commit_listener(stores.room_stream.on_committed)
    stores.events.add_commit_listener(stores.relations.on_committed)
    stores.events.add_batch_writer(RelationsStore.write_relations)
    stores.events.add_batch_writer(UserDirectoryStore.write_from_events)
    stores.events.add_batch_writer(stores.search.write_from_events)
    for stream_store in (
        stores.account_data, stores.receipts, stores.presence, stores.device_lists,
        stores.to_device,
    ):
        await stream_store.start()
    auth = AuthService(stores.accounts, clock)
    passwords = PasswordHasher(config.password_config)
    devices = DevicesService(stores.devices, stores.accounts, auth)
    device_activity = DeviceActivity(stores.devices, clock)
    devices.on_devices_deleted(device_activity.on_devices_deleted)
    accounts = AccountsService(
        config, clock, stores.accounts, devices, auth, passwords, stores.profiles
    )
    uia = UIAService(config, clock, stores.uia, stores.accounts, passwords)
    signing_key = read_signing_key(config.signing_key_path)
    notifier = Notifier()
    notifier.set_position(EVENTS_STREAM, stores.events.stream.current)
    await stores.push_rules.start()
    notifier.set_position(PUSH_RULES_STREAM, stores.push_rules.stream.current)
    persister = EventPersister(
        stores.events, stores.state, StateResolver(stores.events), notifier, config.server_name
    )
    event_creator = EventCreator(
        stores.events, stores.rooms, stores.state, persister, config.server_name,
        signing_key, clock,
    )
    membership = MembershipService(
        event_creator, stores.rooms, stores.profiles, config.server_name
    )
    guest_access = GuestAccessService(
        stores.state, stores.events, stores.rooms, stores.accounts, membership,
        config.server_name,
    )
    persister.add_listener(guest_access.on_persisted)
    directory = DirectoryService(
        stores.directory, stores.rooms, stores.state, stores.events, stores.accounts,
        event_creator, config.server_name, config.room_list_publication_rules,
    )
    room_service = RoomService(
        event_creator, membership, stores.events, stores.state, stores.rooms, directory,
        config.server_name, config.default_room_version,
    )
    account_data = AccountDataService(stores.account_data, notifier)
    presence = PresenceService(
        stores.presence, stores.rooms, notifier, clock, enabled=config.presence_enabled
    )
    await presence.start()
    relations = RelationsService(stores.relations, stores.events, room_service)
    client_events = ClientEventSerializer(stores.events, stores.state, clock, relations)
    push_rules = PushRulesService(stores.push_rules, notifier)
    typing = TypingService(stores.rooms, notifier, clock)
    receipts = ReceiptsService(
        stores.receipts, stores.events, stores.rooms, account_data, notifier, clock
    )
    device_lists = DeviceListsService(stores.device_lists, stores.rooms, notifier)
    e2e_keys = E2EKeysService(stores.e2e_keys, stores.devices, device_lists, config.server_name)
    to_device = ToDeviceService(
        stores.to_device, stores.devices, notifier, clock, config.server_name
    )
    devices.on_device_list_changed(device_lists.devices_changed)
    devices.on_devices_deleted(e2e_keys.on_devices_deleted)
    devices.on_devices_deleted(to_device.on_devices_deleted)
    dehydrated_devices = DehydratedDevicesService(
        stores.dehydrated_devices, devices, e2e_keys, to_device
    )
    devices.on_devices_deleted(dehydrated_devices.on_devices_deleted)
    pushers = PushersService(stores.pushers, clock)
    devices.on_devices_deleted(pushers.on_devices_deleted)
    notifications = NotificationsService(
        stores.notifications, push_rules, stores.state, stores.events,
        config.server_name,
    )
    persister.add_preparer(notifications.prepare_batch)
    persister.add_preparer(receipts.prepare_batch)
    visibility = VisibilityChecker(
        stores.events, stores.state, stores.room_stream, account_data
    )
    sync_sources = SyncSources(
        account_data, receipts, typing, presence, push_rules, to_device, device_lists,
        e2e_keys,
        unread=notifications,
    )
    sync = SyncService(
        notifier, clock, stores.events, stores.state, stores.room_stream,
        SyncRoomBuilder(
            stores.events, stores.state, stores.room_stream, visibility, client_events
        ),
        sync_sources,
    )
    room_reader = RoomReader(
        stores.events, stores.state, stores.rooms, stores.room_stream, visibility,
        client_events,
    )
    room_summaries = RoomSummaryService(
        stores.state, stores.events, stores.rooms, stores.directory, membership
    )
    media_service = MediaService(
        config, clock, stores.media, FileMediaStorage(config.media_store_path)
    )
    return HomeServer(
        config=config,
        db=db,
        clock=clock,
        media=media_service,
        url_previews=UrlPreviewService(config.media, clock, stores.media, media_service),
        signing_key=signing_key,
        stores=stores,
        ratelimiter=Ratelimiter(clock),
        auth=auth,
        accounts=accounts,
        deactivation=AccountDeactivator(accounts, membership, stores.rooms, stores.profiles),
        devices=devices,
        device_activity=device_activity,
        uia=uia,
        registration_tokens=RegistrationTokensService(stores.accounts, clock),
        shared_secret=SharedSecretRegistration(config.registration_shared_secret, clock),
        notifier=notifier,
        persister=persister,
        event_creator=event_creator,
        membership=membership,
        guest_access=guest_access,
        rooms=room_service,
        room_upgrader=RoomUpgrader(
            room_service, event_creator, stores.events, stores.state, stores.rooms
        ),
        redactor=Redactor(event_creator, stores.events),
        client_events=client_events,
        profiles=ProfileService(
            stores.profiles, stores.accounts, stores.rooms, stores.state, stores.events,
            event_creator, config.server_name,
        ),
        directory=directory,
        push_rules=push_rules,
        relations=relations,
        notifications=notifications,
        user_directory=UserDirectoryService(
            stores.user_directory,
            enabled=config.user_directory_enabled,
            search_all_users=config.user_directory_search_all_users,
        ),
        account_data=account_data,
        tags=TagsService(account_data),
        typing=typing,
        receipts=receipts,
        presence=presence,
        filters=FilterService(stores.filters),
        visibility=visibility,
        sync=sync,
        legacy_sync=LegacySyncService(
            notifier, clock, stores.events, stores.room_stream, stores.rooms, visibility,
            client_events, sync_sources, sync, room_reader, room_service,
        ),
        room_reader=room_reader,
        e2e_keys=e2e_keys,
        device_lists=device_lists,
        to_device=to_device,
        key_backup=KeyBackupService(stores.key_backup),
        dehydrated_devices=dehydrated_devices,
        search=SearchService(
            stores.search, stores.events, stores.state, stores.rooms, room_service,
            room_reader, visibility, client_events,
        ),
        room_summaries=room_summaries,
        hierarchy=HierarchyService(room_summaries, stores.state, stores.events),
        reports=ReportsService(
            stores.reports, stores.events, stores.rooms, stores.accounts, visibility, clock,
            config.server_name,
        ),
        notification_history=NotificationHistory(
            stores.notifications, stores.events, receipts, client_events
        ),
        pushers=pushers,
        voip=VoipService(config.voip, clock),
        openid=OpenIdService(stores.openid, clock, config.server_name),
    )


#: Listener resource name -> the route modules' `routes` functions it serves. Resource
#: names without an entry yet (keys) are accepted and logged. Media is
#: also served with client, as Synapse does.
RESOURCES: dict[str, tuple[Callable[[HomeServer], list[web.RouteDef]], ...]] = {
    "client": (client.routes, admin.routes, media.routes),
    "media": (media.routes,),
    "federation": (federation.routes,),
}


def create_app(
    hs: HomeServer, resources: frozenset[str] | None, *, x_forwarded: bool = False
) -> web.Application:
    """An aiohttp app serving these listener resources (None: all of them)."""
    app = web.Application(
        middlewares=[error_middleware], client_max_size=hs.config.max_request_size
    )
    app[HOMESERVER] = hs
    app[TRUST_X_FORWARDED] = x_forwarded
    app.on_response_prepare.append(add_cors_headers)
    names = set(RESOURCES) if resources is None else resources
    served: list[Callable[[HomeServer], list[web.RouteDef]]] = []
    for name in sorted(names):
        # A route group may belong to several resources: add it once.
        served += [routes for routes in RESOURCES.get(name, ()) if routes not in served]
        if name not in RESOURCES:
            logger.warning("Listener resource %r is not served by this version", name)
    for routes in served:
        app.add_routes(routes(hs))
    return app


def _tls_context(config: Config) -> ssl.SSLContext:
    assert config.tls_certificate_path and config.tls_private_key_path
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_certificate_path, config.tls_private_key_path)
    return context


async def _start_listener(hs: HomeServer, listener: ListenerConfig) -> web.AppRunner:
    runner = web.AppRunner(
        create_app(hs, listener.resources, x_forwarded=listener.x_forwarded),
        access_log=None,
    )
    await runner.setup()
    ssl_context = _tls_context(hs.config) if listener.tls else None
    for address in listener.bind_addresses:
        await web.TCPSite(runner, address, listener.port, ssl_context=ssl_context).start()
        logger.info(
            "Listening on %s://%s:%d (%s)",
            "https" if listener.tls else "http", address, listener.port,
            ", ".join(sorted(listener.resources)),
        )
    return runner


async def serve(config: Config) -> None:
    """Run every listener until SIGTERM or SIGINT, then shut down cleanly."""
    db = await open_database(config.database)
    hs = await build_homeserver(config, db)
    runners: list[web.AppRunner] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        for listener in config.listeners:
            runners.append(await _start_listener(hs, listener))
        logger.info("Ranvier is serving %s", config.server_name)
        await stop.wait()
        logger.info("Shutting down")
    finally:
        for runner in runners:
            await runner.cleanup()
        await hs.close()
        await db.close()
