using System.Text;
using System.Text.Json;

namespace Gateway.Components.Shaping;

/// <summary>
/// A set of dotted field paths (<c>a</c>, <c>b.c</c>, <c>b.d.e</c>) as a tree of UTF-8 names, built once when the
/// gateway starts, for <c>allow</c> and <c>deny</c>.
/// </summary>
public sealed class FieldTree
{
    private readonly List<FieldTree> _children = [];

    private FieldTree(byte[] name) => Name = name;

    /// <summary>The field's name (empty for the root).</summary>
    public byte[] Name { get; }

    /// <summary>A listed path ends here: the whole value is selected, whatever lies below.</summary>
    public bool IsLeaf { get; private set; }

    public IReadOnlyList<FieldTree> Children => _children;

    public static FieldTree Create(params string[] dottedPaths)
    {
        ArgumentNullException.ThrowIfNull(dottedPaths);
        var root = new FieldTree([]);
        foreach (string path in dottedPaths)
        {
            FieldTree node = root;
            foreach (string segment in path.Split('.'))
            {
                byte[] name = Encoding.UTF8.GetBytes(segment);
                FieldTree? child = node._children.Find(c => c.Name.AsSpan().SequenceEqual(name));
                if (child is null)
                {
                    child = new FieldTree(name);
                    node._children.Add(child);
                }

                node = child;
            }

            node.IsLeaf = true;
        }

        return root;
    }

    /// <summary>The child the reader's current property name selects, or null.</summary>
    internal FieldTree? Match(ref Utf8JsonReader reader)
    {
        foreach (FieldTree child in _children)
        {
            if (reader.ValueTextEquals(child.Name))
            {
                return child;
            }
        }

        return null;
    }
}
