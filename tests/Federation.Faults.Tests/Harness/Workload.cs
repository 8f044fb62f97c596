using Federation.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Faults.Tests.Harness;

/// <summary>A change a node acknowledged to the person who made it.</summary>
public sealed record Acked(string Node, string ObjectId, ulong Sequence, string What);

/// <summary>A submission a node acknowledged (queued for the object's origin).</summary>
public sealed record AckedSubmission(int Submitter, string SubmissionId, string ObjectId, string What);

/// <summary>
/// What delegates do, on every node, while faults happen: publish call-outs and respond
/// to others', close some, open joint fights and invite everyone, accept, plan actions,
/// escalate. It keeps what each node acknowledged, for the checker. A call that fails
/// (the node is down, the deadline passed) was not acknowledged: it is not counted, and
/// never retried, so nothing is done twice on purpose. It avoids what the rules refuse
/// (responding to a closed call-out, accepting twice), so every acknowledged submission
/// must end up recorded by its origin.
/// </summary>
public sealed class Workload(IReadOnlyList<FaultNode> nodes, int seed = 0)
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    private readonly Random _random = new(seed == 0 ? Environment.TickCount : seed);
    private readonly object _gate = new();
    private readonly List<Acked> _acked = [];
    private readonly List<AckedSubmission> _submissions = [];
    private readonly List<(string Id, int Origin)> _callOuts = [];
    private readonly HashSet<string> _closed = [];
    private readonly HashSet<string> _respondedTo = []; // call-outs someone tried to respond to: never closed
    private readonly HashSet<(int Node, string Id)> _responses = [];
    private readonly List<(string Id, int Origin)> _fights = [];
    private readonly HashSet<string> _escalated = [];
    private readonly HashSet<(int Node, string Id)> _accepts = [];

    private int _attempted;
    private int _failed;

    // Counted with Interlocked: a scenario may publish from one node beside the running workload.
    public int Attempted => Volatile.Read(ref _attempted);
    public int Failed => Volatile.Read(ref _failed);

    public IReadOnlyList<Acked> AckedChanges
    {
        get
        {
            lock (_gate)
            {
                return [.. _acked];
            }
        }
    }

    public IReadOnlyList<AckedSubmission> AckedSubmissions
    {
        get
        {
            lock (_gate)
            {
                return [.. _submissions];
            }
        }
    }

    public int AckedCount
    {
        get
        {
            lock (_gate)
            {
                return _acked.Count + _submissions.Count;
            }
        }
    }

    public override string ToString() =>
        $"{Attempted} operations tried, {AckedCount} acknowledged ({_callOuts.Count} call-outs, {_fights.Count} fights), {Failed} failed";

    /// <summary>Runs <paramref name="count"/> operations.</summary>
    public async Task RunAsync(int count, TimeSpan pause)
    {
        for (var i = 0; i < count; i++)
        {
            await StepAsync();
            await Task.Delay(pause);
        }
    }

    /// <summary>Runs operations until <paramref name="ct"/> is cancelled.</summary>
    public Task RunUntilAsync(TimeSpan pause, CancellationToken ct) => Task.Run(async () =>
    {
        while (!ct.IsCancellationRequested)
        {
            await StepAsync();
            try
            {
                await Task.Delay(pause, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    });

    /// <summary>Runs <paramref name="count"/> call-out publications from one node, to every other node.</summary>
    public async Task PublishFromAsync(FaultNode origin, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await TryAsync(() => PublishAsync(nodes.ToList().IndexOf(origin)));
        }
    }

    /// <summary>One call-out publication from <paramref name="origin"/>; returns its refusal, or null if it was acknowledged.</summary>
    public async Task<RpcException?> TryPublishOnceAsync(FaultNode origin)
    {
        Interlocked.Increment(ref _attempted);
        try
        {
            await PublishAsync(nodes.ToList().IndexOf(origin));
            return null;
        }
        catch (RpcException ex)
        {
            Interlocked.Increment(ref _failed);
            return ex;
        }
    }

    /// <summary>A change <paramref name="node"/> acknowledged outside the workload (a scenario's own step): the checker holds it to it too.</summary>
    public void Acknowledged(FaultNode node, string objectId, ulong sequence, string what) =>
        Ack(nodes.ToList().IndexOf(node), objectId, sequence, what);

    /// <summary>A submission <paramref name="node"/> acknowledged outside the workload.</summary>
    public void Acknowledged(FaultNode node, SubmissionReceipt receipt, string objectId, string what) =>
        AckSubmission(nodes.ToList().IndexOf(node), receipt, objectId, what);

    private async Task StepAsync()
    {
        var up = Enumerable.Range(0, nodes.Count).Where(i => nodes[i].Up).ToList();
        if (up.Count == 0)
        {
            return;
        }
        var at = up[_random.Next(up.Count)];
        var roll = _random.Next(100);
        await TryAsync(roll switch
        {
            < 25 => () => PublishAsync(at),
            < 50 => () => RespondAsync(at),
            < 60 => () => FightAsync(at),
            < 75 => () => AcceptAsync(at),
            < 90 => () => PlanActionAsync(at),
            < 95 => () => EscalateAsync(at),
            _ => () => CloseAsync(at),
        });
    }

    private async Task TryAsync(Func<Task> operation)
    {
        Interlocked.Increment(ref _attempted);
        try
        {
            await operation();
        }
        catch (RpcException)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    private DateTime Deadline => DateTime.UtcNow + CallDeadline;

    private void Ack(int node, string objectId, ulong sequence, string what)
    {
        lock (_gate)
        {
            _acked.Add(new Acked(nodes[node].Name, objectId, sequence, what));
        }
    }

    private void AckSubmission(int node, SubmissionReceipt receipt, string objectId, string what)
    {
        lock (_gate)
        {
            _submissions.Add(new AckedSubmission(node, receipt.SubmissionId, objectId, what));
        }
    }

    private IEnumerable<string> Others(int node) => nodes.Where((_, i) => i != node).Select(n => n.NodeId);

    private async Task PublishAsync(int at)
    {
        var request = new PublishCallOutRequest
        {
            Content = new CallOutContent
            {
                Title = $"Picket Bistro Co branch {_random.Next(1000)}",
                Target = new Target { Name = "Bistro Co", ParentCompany = "Bistro Holdings" },
                DemandSummary = "Pay the stolen wages",
                Places = { new Place { City = "Leeds", Address = "1 High St" } },
                ActionTypes = { ActionType.Picket },
            },
        };
        request.Recipients.AddRange(Others(at));
        var state = await nodes[at].Delegate.PublishCallOutAsync(request, nodes[at].Auth, Deadline);
        Ack(at, state.Id, state.LastSequence, "call-out published");
        lock (_gate)
        {
            _callOuts.Add((state.Id, at));
        }
    }

    private async Task RespondAsync(int at)
    {
        string id;
        lock (_gate)
        {
            var open = _callOuts.Where(c => c.Origin != at && !_closed.Contains(c.Id) && !_responses.Contains((at, c.Id))).ToList();
            if (open.Count == 0)
            {
                return;
            }
            id = open[_random.Next(open.Count)].Id;
            _responses.Add((at, id));
            _respondedTo.Add(id);
        }
        var response = _random.Next(3) == 0
            ? new CallOutResponse { Kind = ResponseKind.Decline, Reason = "no one free that week" }
            : new CallOutResponse { Kind = ResponseKind.Pledge, PlannedDate = "2026-12-05", Place = "Leeds, 1 High St" };
        var receipt = await nodes[at].Delegate.RespondToCallOutAsync(
            new RespondToCallOutRequest { CallOutId = id, Response = response }, nodes[at].Auth, Deadline);
        AckSubmission(at, receipt, id, "call-out response");
    }

    private async Task CloseAsync(int at)
    {
        string id;
        lock (_gate)
        {
            var closable = _callOuts.Where(c => c.Origin == at && !_closed.Contains(c.Id) && !_respondedTo.Contains(c.Id)).ToList();
            if (closable.Count == 0)
            {
                return;
            }
            id = closable[_random.Next(closable.Count)].Id;
            _closed.Add(id); // before the call: no response is tried from now on
        }
        var state = await nodes[at].Delegate.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = id, Reason = "done" }, nodes[at].Auth, Deadline);
        Ack(at, id, state.LastSequence, "call-out closed");
    }

    private async Task FightAsync(int at)
    {
        var n = nodes[at];
        var draft = await n.Delegate.DraftFightAsync(new DraftFightRequest
        {
            Title = $"Deposit fight {_random.Next(1000)}",
            Target = new Target { Name = "Acme Lettings" },
            Terms = new FightTerms
            {
                Demands = { "Return the deposit in full", "Repair the damp" },
                Strategy = "Demand letter, then pickets at the letting office",
                Facts = "Tenant moved out in September; deposit withheld without reason",
                EndConditions = "Deposit returned in full",
            },
        }, n.Auth, Deadline);
        var open = await n.Delegate.OpenFightAsync(new GetObjectRequest { Id = draft.Id }, n.Auth, Deadline);
        Ack(at, open.Id, open.LastSequence, "fight opened");
        var invite = new InviteToFightRequest { FightId = open.Id };
        invite.Networks.AddRange(Others(at));
        var invited = await n.Delegate.InviteToFightAsync(invite, n.Auth, Deadline);
        Ack(at, invited.Id, invited.LastSequence, "networks invited");
        lock (_gate)
        {
            _fights.Add((open.Id, at));
        }
    }

    private async Task AcceptAsync(int at)
    {
        string id;
        lock (_gate)
        {
            var invitedTo = _fights.Where(f => f.Origin != at && !_accepts.Contains((at, f.Id))).ToList();
            if (invitedTo.Count == 0)
            {
                return;
            }
            id = invitedTo[_random.Next(invitedTo.Count)].Id;
        }
        var n = nodes[at];
        // The terms as this node holds them; if the invitation has not arrived yet, try later.
        var fight = await n.Delegate.GetFightAsync(new GetObjectRequest { Id = id }, n.Auth, Deadline);
        if (fight.Participants.FirstOrDefault(p => p.Network == n.NodeId) is not { State: ParticipantState.Invited })
        {
            return;
        }
        lock (_gate)
        {
            if (!_accepts.Add((at, id)))
            {
                return;
            }
        }
        var receipt = await n.Delegate.AcceptInvitationAsync(new AcceptInvitationRequest { FightId = id, TermsHash = fight.TermsHash }, n.Auth, Deadline);
        AckSubmission(at, receipt, id, "invitation accepted");
    }

    private async Task PlanActionAsync(int at)
    {
        string id;
        lock (_gate)
        {
            var accepted = _accepts.Where(a => a.Node == at).Select(a => a.Id).ToList();
            if (accepted.Count == 0)
            {
                return;
            }
            id = accepted[_random.Next(accepted.Count)];
        }
        var n = nodes[at];
        var fight = await n.Delegate.GetFightAsync(new GetObjectRequest { Id = id }, n.Auth, Deadline);
        if (fight.Participants.FirstOrDefault(p => p.Network == n.NodeId) is not { State: ParticipantState.Committed })
        {
            return; // the origin has not recorded the acceptance here yet
        }
        var receipt = await n.Delegate.PlanActionAsync(new PlanActionRequest
        {
            FightId = id,
            Plan = new ActionPlan
            {
                What = "Picket the letting office",
                Place = "Acme Lettings, 5 Station Rd",
                StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)),
            },
        }, n.Auth, Deadline);
        AckSubmission(at, receipt, id, "action planned");
    }

    private async Task EscalateAsync(int at)
    {
        string id;
        lock (_gate)
        {
            var mine = _fights.Where(f => f.Origin == at && !_escalated.Contains(f.Id)).ToList();
            if (mine.Count == 0)
            {
                return;
            }
            id = mine[_random.Next(mine.Count)].Id;
            _escalated.Add(id);
        }
        var state = await nodes[at].Delegate.ChangeFightStatusAsync(
            new ChangeFightStatusRequest { FightId = id, Status = FightStatus.Escalating, Note = "no answer to the demand" }, nodes[at].Auth, Deadline);
        Ack(at, id, state.LastSequence, "fight escalated");
    }
}
