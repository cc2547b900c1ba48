using System.Buffers;

namespace Gateway.Runtime.Http;

/// <summary>
/// Where the gateway's byte buffers come from. Arrays up to <see cref="MaxPooledLength"/> are rented from the shared
/// pool; larger ones are allocated for one use and left to the garbage collector. The shared pool keeps arrays up to
/// 1 GiB per core, so a burst of large bodies would otherwise stay resident long after the requests ended
/// (docs/compatibility.md, limits).
/// </summary>
internal static class BufferPool
{
    /// <summary>The largest array kept for reuse: bodies larger than this are rare, and keeping them costs the most.</summary>
    public const int MaxPooledLength = 1024 * 1024;

    public static byte[] Rent(int minimumLength) =>
        minimumLength <= MaxPooledLength ? ArrayPool<byte>.Shared.Rent(minimumLength) : GC.AllocateUninitializedArray<byte>(minimumLength);

    public static void Return(byte[] array)
    {
        if (array.Length is > 0 and <= MaxPooledLength)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
