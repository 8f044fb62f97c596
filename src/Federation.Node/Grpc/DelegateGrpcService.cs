using Federation.Contracts.V1;
using Federation.Domain;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Identity;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>A network's own tools ↔ its node. Thin: translation only; the rules live in the domain.</summary>
public sealed class DelegateGrpcService(
    NodeIdentity identity,
    IOptions<NodeOptions> options,
    PeerDirectory peers,
    CallOutCommands callOuts,
    FightCommands fights,
    BalanceView balance,
    Confidential confidential) : DelegateService.DelegateServiceBase
{
    public override Task<NodeInfo> GetNodeInfo(GetNodeInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeInfo
        {
            NodeId = identity.NodeId,
            Name = options.Value.Name,
            Fingerprint = identity.Fingerprint,
            Address = options.Value.ResolvedPublicAddress,
        });

    public override async Task<PeerInfo> AddPeer(AddPeerRequest request, ServerCallContext context)
    {
        await peers.AddAsync(request.Address, request.Fingerprint, context.CancellationToken);
        var id = Identifiers.NodeIdFromFingerprint(request.Fingerprint);
        return peers.List().First(p => p.NodeId == id);
    }

    public override Task<PeerInfo> SetPeerState(SetPeerStateRequest request, ServerCallContext context) =>
        peers.SetStateAsync(request.Network, request.State, context.CancellationToken);

    public override Task<ListPeersResponse> ListPeers(ListPeersRequest request, ServerCallContext context) =>
        Task.FromResult(new ListPeersResponse { Peers = { peers.List() } });

    public override Task<CallOutState> PublishCallOut(PublishCallOutRequest request, ServerCallContext context) =>
        callOuts.PublishAsync(request.Content, request.Recipients, context.CancellationToken);

    public override Task<CallOutState> CloseCallOut(CloseCallOutRequest request, ServerCallContext context) =>
        callOuts.CloseAsync(request.CallOutId, request.Cancelled, request.Reason, context.CancellationToken);

    public override Task<SubmissionReceipt> RespondToCallOut(RespondToCallOutRequest request, ServerCallContext context) =>
        callOuts.RespondAsync(request.CallOutId, request.Response ?? throw RuleViolation.Invalid("The response is empty."), context.CancellationToken);

    public override Task<CallOutState> GetCallOut(GetObjectRequest request, ServerCallContext context) =>
        Task.FromResult(callOuts.Get(request.Id));

    public override Task<ListCallOutsResponse> ListCallOuts(ListCallOutsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListCallOutsResponse { CallOuts = { callOuts.List() } });

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
}
