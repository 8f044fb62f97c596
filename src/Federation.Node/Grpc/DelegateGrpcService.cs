using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Delivery;
using Federation.Core.Identity;
using Federation.Core.Queries;
using Federation.Core.Storage;
using Federation.Domain;
using Federation.Node.Notifications;
using Federation.Node.Peering;
using Federation.Node.Security;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>A network's own tools ↔ its node. Thin: translation only; the rules live in the domain.</summary>
public sealed class DelegateGrpcService(
    NodeIdentity identity,
    IOptions<NodeOptions> options,
    Observability.Dependencies dependencies,
    PeerDirectory peers,
    CallOutCommands callOuts,
    FightCommands fights,
    BalanceView balance,
    CommitmentView commitments,
    Confidential confidential,
    InboxFeed inbox,
    WhatsNewView news,
    NotificationChannels notifications,
    DeadLetters deadLetters,
    Delivery.Bundles bundles,
    DelegateTokens tokens,
    OperatorToken operatorToken,
    Backups.NodeBackup backup,
    StorageLock storageLock,
    Federation.Core.Sealing.StorageVault vault,
    NodeKeys nodeKeys,
    PeerProtocols protocols,
    Delivery.PeerClients clients,
    Delivery.RecoverFromPeers recovery,
    IAuditReads store,
    Fediverse.FediverseStatusView fediverse) : DelegateService.DelegateServiceBase
{
    public override Task<NodeInfo> GetNodeInfo(GetNodeInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeInfo
        {
            Fediverse = fediverse.Status(),
            NodeId = identity.NodeId,
            Name = options.Value.Name,
            Fingerprint = identity.Fingerprint,
            Address = options.Value.ResolvedPublicAddress,
            Region = options.Value.Region,
            SoftwareVersion = Contracts.SoftwareVersion.Number,
            Dependencies = { dependencies.Snapshot() },
            TimeZone = options.Value.TimeZone,
            Storage = vault.State,
        });

    public override async Task<StorageStatus> UnlockStorage(UnlockStorageRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var sealedNow = request.NewPassphrase.Length > 0
            ? await storageLock.ChangePassphraseAsync(request.Passphrase, request.NewPassphrase, ct)
            : await storageLock.UnlockAsync(request.Passphrase, request.Create, ct);
        return new StorageStatus { State = vault.State, SealedNow = (uint)sealedNow, Recoverable = vault.Recoverable };
    }

    public override Task<StorageStatus> LockStorage(LockStorageRequest request, ServerCallContext context)
    {
        storageLock.Lock();
        return Task.FromResult(new StorageStatus { State = vault.State, Recoverable = vault.Recoverable });
    }

    public override Task<StorageRecovery> GetStorageRecovery(GetStorageRecoveryRequest request, ServerCallContext context)
    {
        var (networkId, ephemeralPublicKey) = vault.RecoveryChallenge();
        return Task.FromResult(new StorageRecovery { NetworkId = networkId, EphemeralPublicKey = Google.Protobuf.ByteString.CopyFrom(ephemeralPublicKey) });
    }

    public override async Task<StorageStatus> RecoverStorage(RecoverStorageRequest request, ServerCallContext context)
    {
        var sealedNow = await storageLock.RecoverAsync(request.EphemeralPublicKey.ToByteArray(), request.RecoveryKey.ToByteArray(), request.NewPassphrase, context.CancellationToken);
        return new StorageStatus { State = vault.State, SealedNow = (uint)sealedNow, Recoverable = vault.Recoverable };
    }

    public override Task<NodeKeysStatus> GetNodeKeys(GetNodeKeysRequest request, ServerCallContext context) =>
        Task.FromResult(nodeKeys.Status());

    public override Task<NodeKeysStatus> PrepareNodeKey(PrepareNodeKeyRequest request, ServerCallContext context) =>
        Task.FromResult(nodeKeys.Prepare(request.Algorithm));

    public override Task<NodeKeysStatus> InstallNodeKey(InstallNodeKeyRequest request, ServerCallContext context)
    {
        nodeKeys.Install(request.Certificate ?? throw RuleViolation.Invalid("The request carries no certificate."));
        clients.Reconnect();
        // Peers need nothing (each signature carries its certificate); the Hello tells them at once.
        _ = protocols.ExchangeWithAllAsync(CancellationToken.None);
        return Task.FromResult(nodeKeys.Status());
    }

    public override async Task<NodeKeysStatus> RevokeNodeKey(RevokeNodeKeyRequest request, ServerCallContext context)
    {
        await nodeKeys.RevokeOwnAsync(request.Revocation ?? throw RuleViolation.Invalid("The request carries no revocation."), context.CancellationToken);
        // Every peer hears it now; one that is away hears it in its next Hello. The operator
        // waits a few seconds at most for that: an unreachable peer must not hold the answer.
        var told = protocols.ExchangeWithAllAsync(CancellationToken.None);
        await Task.WhenAny(told, Task.Delay(TimeSpan.FromSeconds(5), context.CancellationToken));
        return nodeKeys.Status();
    }

    public override Task<RecoverFromPeersResponse> RecoverFromPeers(RecoverFromPeersRequest request, ServerCallContext context) =>
        recovery.RunAsync(context.CancellationToken);

    public override async Task<PeerInfo> AddPeer(AddPeerRequest request, ServerCallContext context)
    {
        await peers.AddAsync(request.Address, request.Fingerprint, context.CancellationToken);
        var id = Identifiers.NodeIdFromFingerprint(request.Fingerprint);
        return peers.List().First(p => p.NodeId == id);
    }

    public override Task<PeerInfo> SetPeerState(SetPeerStateRequest request, ServerCallContext context) =>
        peers.SetStateAsync(request.Network, request.State, context.CancellationToken);

    public override Task<PeerInfo> SetPeerRelay(SetPeerRelayRequest request, ServerCallContext context) =>
        peers.SetRelayAsync(request.Network, request.Allowed, context.CancellationToken);

    public override Task<ListPeersResponse> ListPeers(ListPeersRequest request, ServerCallContext context) =>
        Task.FromResult(new ListPeersResponse { Peers = { peers.List() } });

    public override Task<ListDeadLettersResponse> ListDeadLetters(ListDeadLettersRequest request, ServerCallContext context) =>
        Task.FromResult(new ListDeadLettersResponse { DeadLetters = { deadLetters.List(request.Peer) } });

    public override async Task<ReplayDeadLetterResponse> ReplayDeadLetter(ReplayDeadLetterRequest request, ServerCallContext context) =>
        new() { Replayed = (uint)await deadLetters.ReplayAsync(request.Id, request.Peer, context.CancellationToken) };

    public override Task<ExportedBundle> ExportBundle(ExportBundleRequest request, ServerCallContext context) =>
        Task.FromResult(bundles.Export(request));

    public override async Task ExportBundleParts(ExportBundleRequest request, IServerStreamWriter<ExportedBundle> responseStream, ServerCallContext context)
    {
        foreach (var part in bundles.ExportParts(request))
        {
            await responseStream.WriteAsync(part, context.CancellationToken);
        }
    }

    public override Task<ImportedBundle> ImportBundle(ImportBundleRequest request, ServerCallContext context) =>
        bundles.ImportAsync(request, context.CancellationToken);

    public override Task<CallOutState> PublishCallOut(PublishCallOutRequest request, ServerCallContext context) =>
        callOuts.PublishAsync(request.Content, request.Recipients.Select(Identifiers.NodeIdFromFingerprint).ToList(),
            NormaliseAudience(request.Audience), context.CancellationToken, toFediverse: request.FediversePublic);

    public override Task<CallOutState> CloseCallOut(CloseCallOutRequest request, ServerCallContext context) =>
        callOuts.CloseAsync(request.CallOutId, request.Cancelled, request.Reason, context.CancellationToken);

    public override Task<SubmissionReceipt> RespondToCallOut(RespondToCallOutRequest request, ServerCallContext context) =>
        callOuts.RespondAsync(request.CallOutId, request.Response ?? throw RuleViolation.Invalid("The response is empty."), context.CancellationToken);

    public override Task<CallOutState> GetCallOut(GetObjectRequest request, ServerCallContext context)
    {
        // A copy: the fediverse flag belongs to this reply, not to the state the log holds.
        var shown = callOuts.Get(request.Id).Clone();
        shown.FediversePublic = callOuts.IsFediversePublic(shown.Id);
        return Task.FromResult(shown);
    }

    public override Task<ListCallOutsResponse> ListCallOuts(ListCallOutsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListCallOutsResponse { CallOuts = { callOuts.List() } });

    public override Task<CallOutState> UpdateCallOut(UpdateCallOutRequest request, ServerCallContext context) =>
        callOuts.UpdateAsync(request.CallOutId, request.Content, context.CancellationToken);

    public override Task<ListCallOutsResponse> QueryInbox(InboxQuery request, ServerCallContext context) =>
        Task.FromResult(new ListCallOutsResponse { CallOuts = { callOuts.Inbox(request, DateTimeOffset.UtcNow) } });

    public override Task<WhatsNew> GetWhatsNew(GetWhatsNewRequest request, ServerCallContext context) =>
        Task.FromResult(news.For(Caller.Of(context).TokenId));

    public override async Task<WhatsNewSeen> MarkNewsSeen(MarkNewsSeenRequest request, ServerCallContext context) =>
        new() { UpTo = (ulong)await news.MarkSeenAsync(Caller.Of(context).TokenId, request.UpTo, context.CancellationToken) };

    public override async Task SubscribeInbox(SubscribeInboxRequest request, IServerStreamWriter<InboxItem> responseStream, ServerCallContext context)
    {
        var cursor = request.AfterCursor > 0 ? (long)request.AfterCursor : inbox.End();
        // Headers go first so a client knows the subscription is in place, and from where.
        await context.WriteResponseHeadersAsync(new Metadata { { "x-feed-cursor", cursor.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
        try
        {
            await inbox.FollowAsync(cursor, item => responseStream.WriteAsync(item, context.CancellationToken), context.CancellationToken);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The subscriber went away.
        }
    }

    public override Task<CalendarExport> ExportPledges(ExportPledgesRequest request, ServerCallContext context) =>
        Task.FromResult(callOuts.ExportPledges(request.AllNetworks, options.Value.Name, DateTimeOffset.UtcNow));

    public override Task<NotificationChannel> AddWebhook(AddWebhookRequest request, ServerCallContext context) =>
        notifications.AddWebhookAsync(request.Url, request.Secret, request.Kinds, context.CancellationToken);

    public override Task<NotificationChannel> AddEmailRecipient(AddEmailRecipientRequest request, ServerCallContext context) =>
        notifications.AddEmailAsync(request.Address, request.Kinds, context.CancellationToken);

    public override Task<ListNotificationChannelsResponse> ListNotificationChannels(ListNotificationChannelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListNotificationChannelsResponse { Channels = { notifications.List() } });

    public override Task<NotificationChannel> RemoveNotificationChannel(RemoveNotificationChannelRequest request, ServerCallContext context) =>
        notifications.RemoveAsync(request.Id, context.CancellationToken);

    public override Task<ListNotificationDeliveriesResponse> ListNotificationDeliveries(ListNotificationDeliveriesRequest request, ServerCallContext context) =>
        Task.FromResult(new ListNotificationDeliveriesResponse { Deliveries = { notifications.Deliveries(request.ChannelId, request.Limit) } });

    /// <summary>Chosen peers may be given as fingerprints, as operators read them out.</summary>
    private static CallOutAudience? NormaliseAudience(CallOutAudience? audience)
    {
        if (audience is null || audience.Networks.Count == 0)
        {
            return audience;
        }
        var normalised = audience.Clone();
        normalised.Networks.Clear();
        normalised.Networks.AddRange(audience.Networks.Select(Identifiers.NodeIdFromFingerprint));
        return normalised;
    }

    public override Task<FightState> DraftFight(DraftFightRequest request, ServerCallContext context) =>
        fights.DraftAsync(request.Title, request.Target, request.Terms, context.CancellationToken);

    public override Task<FightState> UpdateDraftTerms(UpdateDraftTermsRequest request, ServerCallContext context) =>
        fights.UpdateDraftTermsAsync(request.FightId, request.Terms ?? new FightTerms(), context.CancellationToken);

    public override Task<FightState> OpenFight(GetObjectRequest request, ServerCallContext context) =>
        fights.OpenAsync(request.Id, context.CancellationToken);

    public override Task<FightState> InviteToFight(InviteToFightRequest request, ServerCallContext context) =>
        fights.InviteAsync(request.FightId, request.Networks.Select(Identifiers.NodeIdFromFingerprint).ToList(), context.CancellationToken);

    public override Task<SubmissionReceipt> AcceptInvitation(AcceptInvitationRequest request, ServerCallContext context) =>
        fights.AcceptAsync(request.FightId, request.TermsHash, context.CancellationToken);

    public override Task<SubmissionReceipt> DeclineInvitation(DeclineInvitationRequest request, ServerCallContext context) =>
        fights.DeclineAsync(request.FightId, request.Reason, request.Offer, context.CancellationToken);

    public override Task<FightState> ChangeFightStatus(ChangeFightStatusRequest request, ServerCallContext context) =>
        fights.ChangeStatusAsync(request.FightId, request.Status, request.Note, context.CancellationToken);

    public override Task<FightState> GetFight(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(fights.Get(request.Id));

    public override Task<ListFightsResponse> ListFights(ListFightsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListFightsResponse { Fights = { fights.List() } });

    public override Task<FightState> AmendTerms(AmendTermsRequest request, ServerCallContext context) =>
        fights.AmendAsync(request.FightId, request.Terms ?? new FightTerms(), request.Note, context.CancellationToken);

    public override Task<SubmissionReceipt> ReaffirmTerms(ReaffirmTermsRequest request, ServerCallContext context) =>
        fights.ReaffirmAsync(request.FightId, request.TermsHash, context.CancellationToken);

    public override Task<SubmissionReceipt> DeclineAmendment(DeclineAmendmentRequest request, ServerCallContext context) =>
        fights.DeclineAmendmentAsync(request.FightId, request.Reason, context.CancellationToken);

    public override Task<SubmissionReceipt> RequestRelease(RequestReleaseRequest request, ServerCallContext context) =>
        fights.RequestReleaseAsync(request.FightId, request.Reason, context.CancellationToken);

    public override Task<FightState> GrantRelease(GrantReleaseRequest request, ServerCallContext context) =>
        fights.GrantReleaseAsync(request.FightId, Identifiers.NodeIdFromFingerprint(request.Network), request.Reason, context.CancellationToken);

    public override Task<FightState> DeliverDemand(DeliverDemandRequest request, ServerCallContext context) =>
        fights.DeliverDemandAsync(request.FightId, request.Deadline, request.Note, context.CancellationToken);

    public override Task<FightState> RecordCommunication(RecordCommunicationRequest request, ServerCallContext context) =>
        fights.RecordCommunicationAsync(request.FightId, request.Kind, request.Summary, context.CancellationToken);

    public override Task<SubmissionReceipt> FileReport(FileReportRequest request, ServerCallContext context) =>
        fights.FileReportAsync(request.FightId, new Contracts.V1.FileReport { Kind = request.Kind, Summary = request.Summary }, context.CancellationToken);

    public override Task<ListReportsResponse> ListReports(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(new ListReportsResponse { Reports = { fights.ListReports(request.Id) } });

    public override Task<SubmissionReceipt> PlanAction(PlanActionRequest request, ServerCallContext context) =>
        fights.PlanActionAsync(request.FightId, request.Plan, context.CancellationToken);

    public override Task<SubmissionReceipt> UpdateAction(UpdateActionRequest request, ServerCallContext context) =>
        fights.UpdateActionAsync(request.FightId, request.ActionId, request.Plan, context.CancellationToken);

    public override Task<SubmissionReceipt> CancelAction(CancelActionRequest request, ServerCallContext context) =>
        fights.CancelActionAsync(request.FightId, request.ActionId, request.Reason, context.CancellationToken);

    public override Task<SubmissionReceipt> ReportAction(ReportActionRequest request, ServerCallContext context) =>
        fights.ReportActionAsync(request.FightId, request.ActionId, request.Report, request.Turnout, context.CancellationToken);

    public override Task<SubmissionReceipt> AcknowledgeStandDown(GetObjectRequest request, ServerCallContext context) =>
        fights.AcknowledgeStandDownAsync(request.Id, context.CancellationToken);

    public override Task<CalendarFile> ExportFightCalendar(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(fights.ExportCalendar(request.Id));

    public override Task<Balance> GetBalance(GetBalanceRequest request, ServerCallContext context) =>
        Task.FromResult(balance.Compute());

    public override Task<ListCommitmentsResponse> ListCommitments(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(new ListCommitmentsResponse { Commitments = { commitments.Of(request.Id) } });

    public override Task<LocalDetails> SetLocalDetails(SetLocalDetailsRequest request, ServerCallContext context) =>
        confidential.SetLocalDetailsAsync(request.FightId, request.Details ?? new LocalDetails(), context.CancellationToken);

    public override Task<LocalDetails> GetLocalDetails(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(confidential.GetLocalDetails(request.Id));

    public override Task<BriefingsState> PostBriefing(PostBriefingRequest request, ServerCallContext context) =>
        confidential.PostBriefingAsync(request.FightId, request.Text, context.CancellationToken);

    public override Task<BriefingsState> GetBriefings(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(confidential.GetBriefings(request.Id));

    public override Task<PurgeReport> PurgeFight(GetObjectRequest request, ServerCallContext context) =>
        confidential.PurgeAsync(request.Id, context.CancellationToken);

    public override Task<ListAuditResponse> ListAudit(ListAuditRequest request, ServerCallContext context)
    {
        var limit = request.Limit switch { 0 => 50, > 1000 => 1000, var n => (int)n };
        return Task.FromResult(new ListAuditResponse
        {
            Entries =
            {
                store.ListAudit(limit).Reverse().Select(e => new AuditLogEntry
                {
                    Id = e.Id,
                    At = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(e.At),
                    Who = e.Who,
                    Role = e.Role,
                    Action = e.Action,
                    ObjectId = e.ObjectId ?? "",
                    Outcome = e.Outcome,
                }),
            },
        });
    }

    public override async Task<CreatedToken> CreateToken(CreateTokenRequest request, ServerCallContext context)
    {
        var (token, record) = await tokens.CreateAsync(request.Holder, DelegateTokens.ParseRole(request.Role), context.CancellationToken);
        return new CreatedToken { Info = DelegateTokens.Info(record), Token = token };
    }

    public override Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context) =>
        Task.FromResult(new ListTokensResponse { Tokens = { tokens.List().Select(DelegateTokens.Info) } });

    public override async Task<TokenInfo> EndTokenSessions(EndTokenSessionsRequest request, ServerCallContext context)
    {
        if (!await tokens.EndSessionsAsync(request.Id, context.CancellationToken))
        {
            throw RuleViolation.NotFound($"No active token {Identifiers.Truncate(request.Id)}; `solnet token list` shows them.");
        }
        return DelegateTokens.Info(tokens.List().Single(t => t.Id == request.Id));
    }

    public override Task<RotatedOperatorToken> RotateOperatorToken(RotateOperatorTokenRequest request, ServerCallContext context)
    {
        var token = operatorToken.Rotate();
        tokens.Changed();
        return Task.FromResult(new RotatedOperatorToken { Token = token, Path = operatorToken.Path });
    }

    public override async Task TakeBackup(TakeBackupRequest request, IServerStreamWriter<BackupChunk> responseStream, ServerCallContext context)
    {
        await foreach (var chunk in backup.ChunksAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }
    }

    public override async Task<TokenInfo> RevokeToken(RevokeTokenRequest request, ServerCallContext context)
    {
        if (!await tokens.RevokeAsync(request.Id, context.CancellationToken))
        {
            throw RuleViolation.NotFound($"No active token {Identifiers.Truncate(request.Id)}; `solnet token list` shows them.");
        }
        return DelegateTokens.Info(tokens.List().Single(t => t.Id == request.Id));
    }
}
