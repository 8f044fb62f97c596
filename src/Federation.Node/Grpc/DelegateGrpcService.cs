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
    DeadLetters deadLetters) : DelegateService.DelegateServiceBase
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

    public override Task<ListPeersResponse> ListPeers(ListPeersRequest request, ServerCallContext context) =>
        Task.FromResult(new ListPeersResponse { Peers = { peers.List() } });

    public override Task<ListDeadLettersResponse> ListDeadLetters(ListDeadLettersRequest request, ServerCallContext context) =>
        Task.FromResult(new ListDeadLettersResponse { DeadLetters = { deadLetters.List(request.Peer) } });

    public override async Task<ReplayDeadLetterResponse> ReplayDeadLetter(ReplayDeadLetterRequest request, ServerCallContext context) =>
        new() { Replayed = (uint)await deadLetters.ReplayAsync(request.Id, request.Peer, context.CancellationToken) };

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
}
