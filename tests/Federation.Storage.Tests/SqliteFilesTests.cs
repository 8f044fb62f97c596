using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Storage.Tests;

/// <summary>What SQLite writes outside node.db and its write-ahead log: nothing, even for a large write.</summary>
public sealed class SqliteFilesTests : IDisposable
{
    private readonly SqliteDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task ALargeWriteInAGroupKeepsThePagesItChangesOutOfTemporaryFiles()
    {
        var store = _db.Open();
        var first = Identifiers.NewObjectId(new string('a', 32));
        await store.WriteAsync(tx => Insert(tx, first));

        // A write in a group of several runs inside a savepoint of its own, and SQLite keeps
        // each page the write changes, as it was, in a statement journal; past 64 KiB it spills
        // that to an unlinked file in the temporary directory (named etilqs_…) unless told to
        // keep it in memory. The group: two writes queued while a first one holds the writer.
        var gate = new ManualResetEventSlim();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = Task.Run(() => store.WriteAsync(tx =>
        {
            holding.TrySetResult();
            gate.Wait();
            return true;
        }));
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = Identifiers.NewObjectId(new string('a', 32));
        var large = Task.Run(() => store.WriteAsync(tx =>
        {
            // The second object's events land all over the first's pages of the event-id
            // index (random ids), as a page of catch-up does, and the first's are purged.
            Insert(tx, second);
            Assert.Equal(Events, tx.DeleteEvents(first));
            return TemporaryFilesOpen();
        }));
        var beside = Task.Run(() => store.WriteAsync(tx => tx.DeleteEvents(second)));
        await Task.Delay(200);
        gate.Set();

        var open = await large;
        Assert.True(open.Count == 0, "open while the write ran: " + string.Join(", ", open));
        Assert.Equal(Events, await beside);
        Assert.True(await held);
    }

    private const int Events = 3_000;

    private static bool Insert(IStoreTransaction tx, string objectId)
    {
        for (var seq = 1ul; seq <= Events; seq++)
        {
            tx.InsertEvent(new StoredEvent(objectId, ObjectKind.Fight, seq, Guid.NewGuid().ToString(), [1, 2, 3], [9, 9]));
        }
        return true;
    }

    private static List<string> TemporaryFilesOpen() =>
        Directory.GetFiles("/proc/self/fd")
            .Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(target => target.Contains("etilqs_", StringComparison.Ordinal))
            .ToList();
}
