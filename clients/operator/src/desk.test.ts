import { describe, expect, it } from "vitest";
import { treeOrder, type Category } from "./desk";

const category = (id: string, parent_id: string | null, position: number, active = true): Category => ({
  id, parent_id, name: id.toUpperCase(), department: "d", position, active,
});

describe("the category tree", () => {
  it("reads parent then children, by position, whatever order helpdesk lists them in", () => {
    const listed = [
      category("no-water", "water", 1), category("sewer", null, 2), category("water", null, 1),
      category("low-pressure", "water", 0), category("blockage", "sewer", 0), category("old", "water", 2, false),
      category("orphan", "retired-parent", 0),
    ];
    expect(treeOrder(listed).map((c) => `${c.depth}:${c.id}`)).toEqual([
      "0:orphan", "0:water", "1:low-pressure", "1:no-water", "0:sewer", "1:blockage",
    ]);
  });
});
