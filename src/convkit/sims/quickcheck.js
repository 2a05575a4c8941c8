// Quick check: a multiple-choice question; each answer, right or wrong, shows its own explanation.

function render({ model, el }) {
  const question = model.get("question");
  const options = model.get("options");
  const answer = model.get("answer");
  const explanations = model.get("explanations");
  const letters = "ABCDEFGHIJ";
  const root = h("div", { class: "ck-sim ck-qc mathjax_process", "data-sim": "quickcheck" });
  const buttons = options.map((text, i) => h("button", {
    type: "button", class: "ck-option", "data-index": i, "aria-pressed": "false",
    onclick: () => choose(i) }, [h("span", { class: "ck-mark", "aria-hidden": "true" }, [`${letters[i]}.`]), mathText(text)]));
  const feedback = h("div", { class: "ck-explanation", hidden: true, "data-role": "explanation", "aria-live": "polite" });
  root.append(
    h("div", { class: "ck-qc-kicker", "aria-hidden": "true" }, ["Quick check"]),
    h("fieldset", {}, [h("legend", {}, [mathText(question)]), ...buttons]),
    feedback,
  );

  function choose(i) {
    const right = i === answer;
    buttons.forEach((b, j) => {
      b.setAttribute("aria-pressed", String(j === i));
      b.classList.toggle("ck-right", right && j === i);
      b.classList.toggle("ck-wrong", !right && j === i);
      b.querySelector(".ck-mark").textContent = j === i ? (right ? "\u2714" : "\u2718") : `${letters[j]}.`;
    });
    feedback.replaceChildren(
      h("strong", {}, [right ? "Correct. " : "Not quite. "]),
      mathText(explanations[i]),
      ...(right ? [] : [h("span", { class: "ck-retry" }, [" Try another answer."])]),
    );
    feedback.hidden = false;
    feedback.dataset.correct = String(right);
    setTrait(model, "chosen", i);
    typesetMath(feedback);
  }
  el.append(root);
  typesetMath(root);
  const chosen = model.get("chosen");
  if (chosen >= 0 && chosen < options.length) choose(chosen);
}

export default { render };
