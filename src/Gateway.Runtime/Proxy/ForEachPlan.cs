using System.Text;
using System.Text.Json;
using Gateway.Components.RequestTemplates;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// How a <c>for_each</c> step (docs/configuration.md, fan-out) runs over an array: where the array is in the response of
/// step <see cref="Source"/>, what identifies an element (<see cref="Key"/>; elements with equal keys are called once),
/// how many calls run at a time and how many elements are accepted, and where the results go: collected as an array
/// (the step's data, under its group), or, with <see cref="JoinAs"/>, also put into each element of the source array.
/// </summary>
public sealed class ForEachPlan
{
    public ForEachPlan(int source, JsonPath array, JsonPath? key, int concurrency, int maxItems, string? joinAs = null)
    {
        ArgumentNullException.ThrowIfNull(array);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        Source = source;
        Array = array;
        Key = key;
        Concurrency = concurrency;
        MaxItems = maxItems;
        if (joinAs is not null)
        {
            JoinAs = Encoding.UTF8.GetBytes(joinAs);
            JoinAsJson = [(byte)'"', .. JsonEncodedText.Encode(joinAs).EncodedUtf8Bytes, (byte)'"'];
        }
    }

    /// <summary>The index of the step whose response holds the array.</summary>
    public int Source { get; }

    /// <summary>The array's path in that response (as its data, without its group).</summary>
    public JsonPath Array { get; }

    /// <summary>The path, inside an element, of the value that identifies it; null: the whole element.</summary>
    public JsonPath? Key { get; }

    public int Concurrency { get; }

    public int MaxItems { get; }

    /// <summary>The member name each element receives its result under (UTF-8); null when results are only collected.</summary>
    public byte[]? JoinAs { get; }

    /// <summary><see cref="JoinAs"/> as a JSON string literal, quotes included.</summary>
    public byte[]? JoinAsJson { get; }
}

/// <summary>One call a <c>for_each</c> step makes: its URL and, when the step builds them, its body and headers.</summary>
public readonly struct StepCall
{
    public StepCall(string? url)
    {
        Url = url;
    }

    public StepCall(string? url, BackendRequest? request)
    {
        Url = url;
        Request = request;
        Templated = true;
    }

    /// <summary>Null when a value could not be put in the URL: the element's call fails.</summary>
    public string? Url { get; }

    public BackendRequest? Request { get; }

    /// <summary>The step builds its body or headers (<c>gateway/request</c>): a null <see cref="Request"/> fails the call.</summary>
    public bool Templated { get; }
}

/// <summary>Builds the call for one element (<c>{item}</c>: the element's raw JSON).</summary>
public delegate StepCall StepCallBuilder(ReadOnlySpan<byte> item);

/// <summary>
/// The calls of one run of a <c>for_each</c> step: one per distinct key (<see cref="Calls"/>), which call each element of
/// the source array uses (<see cref="ElementCall"/>), and their results once made.
/// </summary>
internal sealed class ForEachCalls : IDisposable
{
    private readonly List<StepCall> _calls = new();

    public ForEachCalls(int elements) => ElementCall = new int[elements];

    public int[] ElementCall { get; }

    public IReadOnlyList<StepCall> Calls => _calls;

    public int Count => _calls.Count;

    /// <summary>What a call's builder threw, by call; the call is then not made.</summary>
    public Exception?[] Faults { get; private set; } = [];

    public Forwarding.BackendResult?[] Results { get; private set; } = [];

    public int Add(StepCall call)
    {
        _calls.Add(call);
        if (Faults.Length < _calls.Count)
        {
            int size = Math.Max(4, Faults.Length * 2);
            Exception?[] faults = Faults;
            Array.Resize(ref faults, size);
            Faults = faults;
            Forwarding.BackendResult?[] results = Results;
            Array.Resize(ref results, size);
            Results = results;
        }

        return _calls.Count - 1;
    }

    /// <summary>
    /// The step's result: the JSON array of the usable results in the order of the calls (an element's result appears
    /// once however many elements share its key), complete when every call was; with <c>join_as</c>, each element's
    /// result too. When no call gave data, the step failed as its first call did.
    /// </summary>
    public Forwarding.BackendResult Collect(ForEachPlan plan)
    {
        var data = new Http.PooledBuffer();
        var slices = new (int Start, int Length)[Count];
        bool complete = true;
        int usable = 0;
        data.Write("["u8);
        for (int u = 0; u < Count; u++)
        {
            Forwarding.BackendResult result = Results[u]!;
            complete &= result.Complete;
            slices[u] = (-1, 0);
            if (result.Succeeded && !result.Skipped && !result.Body.IsEmpty)
            {
                if (usable++ > 0)
                {
                    data.Write(","u8);
                }

                slices[u] = (data.Length, result.Body.Length);
                data.Write(result.Body);
            }
        }

        data.Write("]"u8);
        if (usable == 0 && Count > 0)
        {
            data.Dispose();
            Forwarding.BackendResult first = Results[0]!;
            return Forwarding.BackendResult.Failed(first.Failure == Forwarding.BackendFailure.None ? Forwarding.BackendFailure.InvalidBody : first.Failure, first.StatusCode);
        }

        ReadOnlyMemory<byte>[]? perElement = null;
        if (plan.JoinAs is not null)
        {
            perElement = new ReadOnlyMemory<byte>[ElementCall.Length];
            ReadOnlyMemory<byte> written = data.WrittenMemory;
            for (int k = 0; k < ElementCall.Length; k++)
            {
                (int start, int length) = slices[ElementCall[k]];
                perElement[k] = start < 0 ? default : written.Slice(start, length);
            }
        }

        return Forwarding.BackendResult.Collected(data, complete, perElement);
    }

    /// <summary>Releases the calls' results (their data is copied into the step's) and any request never sent.</summary>
    public void Dispose()
    {
        for (int u = 0; u < Count; u++)
        {
            if (Results[u] is { } result)
            {
                result.Dispose();
            }
            else
            {
                _calls[u].Request?.Dispose();
            }
        }
    }
}
