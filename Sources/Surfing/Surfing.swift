/// Inverting generators by surfing their training history (Song, Fan, Lafferty, NeurIPS 2019).
/// Not implemented yet: see the open issue "Surfing".
public enum Surfing {}
